"""Checks shared by every door that takes a value from outside (API.md: errors).

Bad input is refused naming the field and changes nothing; it is never stored to
break a page later. Names (organizations, appliances, assets, integrations, SaaS
sources, thresholds, tokens) are one line of printable text: a line break in a name
would otherwise end up in an email subject or a ticket title. Values read from a
vendor are cleaned instead of refused, since nobody is there to correct them.
"""

import unicodedata
from datetime import UTC, date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

BIGINT_MAX = 2**63 - 1
# No backup, status or replay we keep is older than this; nothing is more than a day ahead
# (a clock a little fast). Python's datetime cannot go past year 9999, so an unbounded time
# that overflows in UTC would be stored and break every page that reads it.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
AHEAD = timedelta(days=1)
# Cc: C0/C1 controls (NUL, tab, CR, LF, ESC…); Zl/Zp: the Unicode line and paragraph separators.
_CONTROL_CATEGORIES = {"Cc", "Zl", "Zp"}
CONTROL_MESSAGE = "Must be one line of text, without control characters (line breaks, tabs, NUL…)."


def has_control_characters(value: str) -> bool:
    return any(unicodedata.category(c) in _CONTROL_CATEGORIES for c in value)


def refuse_control_characters(value):
    """A model-field validator: the API's serializers and the dashboard's forms both run it."""
    if isinstance(value, str) and has_control_characters(value):
        raise ValidationError(CONTROL_MESSAGE, code="control_characters")


def one_line(value) -> str:
    """Control characters become spaces and runs of spaces one: for names read from a vendor, or
    rows stored before names were validated, wherever a single line is required (email subjects)."""
    text = "".join(" " if unicodedata.category(c) in _CONTROL_CATEGORIES else c for c in str(value))
    return " ".join(text.split())


def clean_name(value, max_length: int) -> str:
    return one_line(value)[:max_length].strip()


def parse_id(value) -> int | None:
    """An id from a query string: ASCII digits within a bigint, else None (`²` and `٣` are digits
    to `str.isdigit`, and `int()` refuses the first and reads the second)."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        number = int(value)
        return number if number <= BIGINT_MAX else None
    return None


def time_window(now=None) -> tuple[datetime, datetime]:
    return EARLIEST, (now or timezone.now()) + AHEAD


def time_error(value: datetime, now=None) -> str | None:
    """Why an aware time is out of range, or None."""
    earliest, latest = time_window(now)
    try:
        value = value.astimezone(UTC)
    except OverflowError:
        return "Out of range once converted to UTC."
    if not earliest <= value <= latest:
        return f"Must be between {earliest:%Y-%m-%d} and a day from now."
    return None


def date_error(value: date, now=None) -> str | None:
    earliest, latest = time_window(now)
    if not earliest.date() <= value <= latest.date():
        return f"Must be between {earliest:%Y-%m-%d} and tomorrow."
    return None


def parse_time(raw, now=None) -> tuple[datetime | None, str | None]:
    """An ISO 8601 time with an offset, within the window: (time, None) or (None, why not)."""
    example = "e.g. 2026-11-01T22:00:00+00:00"
    if not isinstance(raw, str):
        return None, f"Must be an ISO 8601 time with an offset, {example}."
    try:
        parsed = parse_datetime(raw)
    except (ValueError, OverflowError):  # a day that does not exist, an offset of 24 h or more
        return None, f"Not a valid time: no such date, or an offset beyond ±23:59 ({example})."
    if parsed is None or parsed.tzinfo is None:
        return None, f"Must be an ISO 8601 time with an offset, {example}."
    error = time_error(parsed, now)
    return (None, error) if error else (parsed, None)


def without_nul(data):
    """A vendor's decoded JSON with every NUL dropped from strings and keys: PostgreSQL stores
    none in text or jsonb, and one stray byte in a message must not stop a whole sync."""
    if isinstance(data, str):
        return data.replace("\x00", "")
    if isinstance(data, list):
        return [without_nul(value) for value in data]
    if isinstance(data, dict):
        return {without_nul(key): without_nul(value) for key, value in data.items()}
    return data
