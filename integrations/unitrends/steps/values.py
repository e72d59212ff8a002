"""Reading the appliance's values: numbers, epoch seconds, `H:M:S` durations, `MM/DD/YYYY H:M:S` times.
A value that cannot be read gives 0 or None, never a failed step."""

from datetime import UTC, datetime, timedelta

MB = 1024 * 1024
STATUSES = {
    "success": "success", "successful": "success", "warning": "warning", "warnings": "warning",
    "failed": "failed", "failure": "failed", "error": "failed", "cancelled": "cancelled", "canceled": "cancelled",
    "running": "running", "active": "running", "in progress": "running", "queued": "running",
}


def to_int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def from_epoch(value):
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def parse_duration(text) -> timedelta:
    try:
        hours, minutes, seconds = (int(p) for p in str(text).split(":"))
        return timedelta(hours=hours, minutes=minutes, seconds=seconds)
    except ValueError:
        return timedelta(0)


def parse_stamp(text):
    try:
        return datetime.strptime(str(text), "%m/%d/%Y %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None
