"""When a maintenance window is on (R16.1): its occurrences, computed in the window's own
time zone and converted to UTC, so a Sunday 01:00–05:00 window stays 01:00–05:00 on the
wall clock across a change of daylight saving time (five real hours on the night clocks
go back, three on the night they go forward).

A recurrence is an RFC 5545 RRULE (dateutil) whose first start is the window's start in
its zone; each occurrence lasts its duration on the wall clock. A one-off window is its
start and end. An occurrence is [start, end): at its end the window is over.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from dateutil.rrule import MINUTELY, SECONDLY, rrulestr

MAX_DURATION = timedelta(days=31)
LOOK_BACK = MAX_DURATION + timedelta(days=1)  # an occurrence on now started at most this long before


class WindowError(ValueError):
    """A window that cannot be computed; `field` names what is wrong."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Occurrence:
    start: datetime  # UTC
    end: datetime  # UTC

    def holds(self, moment) -> bool:
        return self.start <= moment < self.end


@lru_cache(maxsize=1)
def zone_names() -> frozenset:
    return frozenset(available_timezones())


def zone(name: str) -> ZoneInfo:
    if not name or name not in zone_names():
        raise WindowError("timezone", f"Unknown time zone {name!r}: use an IANA name such as America/New_York.")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise WindowError("timezone", f"Unknown time zone {name!r}.") from exc


def wall(moment: datetime, tz: ZoneInfo) -> datetime:
    """The wall-clock time of `moment` in `tz`, naive."""
    return moment.astimezone(tz).replace(tzinfo=None)


def utc(local: datetime, tz: ZoneInfo) -> datetime:
    """A naive wall-clock time in `tz` as UTC (an ambiguous time: its first instance)."""
    return local.replace(tzinfo=tz, fold=0).astimezone(UTC)


def recurrence(text: str, first_local: datetime):
    """The dateutil rule of `text` starting at `first_local` (naive wall-clock time)."""
    text = (text or "").strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if not text or "\n" in text or "DTSTART" in text.upper():
        raise WindowError("rrule", "Give one RRULE, e.g. FREQ=WEEKLY;BYDAY=SU;BYHOUR=1;BYMINUTE=0 (no DTSTART).")
    try:
        rule = rrulestr(text, dtstart=first_local, forceset=False)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        raise WindowError("rrule", f"Not a recurrence rule (RFC 5545): {exc}.") from exc
    if getattr(rule, "_freq", None) in (SECONDLY, MINUTELY):
        raise WindowError("rrule", "A window recurs at most every hour.")
    return rule


def check(tz_name, starts_at, ends_at, rrule_text, duration_minutes) -> None:
    """Raise WindowError naming the field when the window cannot be computed."""
    tz = zone(tz_name)
    if starts_at is None:
        raise WindowError("starts_at", "Give the start.")
    if rrule_text:
        if ends_at is not None:
            raise WindowError("ends_at", "A recurring window has a duration, not an end.")
        if not duration_minutes or duration_minutes <= 0:
            raise WindowError("duration_minutes", "Give how many minutes each occurrence lasts.")
        if timedelta(minutes=duration_minutes) > MAX_DURATION:
            raise WindowError("duration_minutes", "An occurrence lasts at most 31 days.")
        rule = recurrence(rrule_text, wall(starts_at, tz))
        try:
            rule.after(wall(starts_at, tz), inc=True)
        except (ValueError, OverflowError) as exc:
            raise WindowError("rrule", f"Not a recurrence rule (RFC 5545): {exc}.") from exc
        return
    if duration_minutes:
        raise WindowError("duration_minutes", "A one-off window has an end, not a duration; or give a recurrence.")
    if ends_at is None:
        raise WindowError("ends_at", "Give the end, or a recurrence and a duration.")
    if ends_at <= starts_at:
        raise WindowError("ends_at", "The end must come after the start.")


def between(window, after: datetime, before: datetime) -> list[Occurrence]:
    """The occurrences of `window` overlapping [after, before), in order."""
    tz = zone(window.timezone)
    if not window.rrule:
        if window.ends_at is None:
            return []
        found = Occurrence(window.starts_at.astimezone(UTC), window.ends_at.astimezone(UTC))
        return [found] if found.end > after and found.start < before else []
    length = timedelta(minutes=window.duration_minutes or 0)
    rule = recurrence(window.rrule, wall(window.starts_at, tz))
    local_from = wall(after - length - timedelta(days=1), tz)
    local_to = wall(before + timedelta(days=1), tz)
    found = []
    for local in rule.between(local_from, local_to, inc=True):
        occurrence = Occurrence(utc(local, tz), utc(local + length, tz))
        if occurrence.end > after and occurrence.start < before and occurrence.end > occurrence.start:
            found.append(occurrence)
    return found


def current(window, now: datetime) -> Occurrence | None:
    """The occurrence `now` is in, else None."""
    return next((o for o in between(window, now, now + timedelta(microseconds=1)) if o.holds(now)), None)


def upcoming(window, now: datetime, count: int = 1, within: timedelta | None = None) -> list[Occurrence]:
    """The next `count` occurrences not over at `now` (the current one first), looking at
    most `within` ahead (a year by default)."""
    horizon = now + (within or timedelta(days=366))
    if not window.rrule:
        return between(window, now, horizon)[:count]
    tz = zone(window.timezone)
    length = timedelta(minutes=window.duration_minutes or 0)
    rule = recurrence(window.rrule, wall(window.starts_at, tz))
    found, cursor = [], wall(now - length - timedelta(days=1), tz)
    while len(found) < count:
        local = rule.after(cursor, inc=False)
        if local is None:
            break
        cursor = local
        occurrence = Occurrence(utc(local, tz), utc(local + length, tz))
        if occurrence.start >= horizon:
            break
        if occurrence.end > now:
            found.append(occurrence)
    return found
