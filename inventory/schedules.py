"""Backup schedules as RFC 5545 recurrences in the appliance's time zone.

A start is a local wall-clock time of the appliance: "every day at 22:00" stays
at 22:00 on both sides of a daylight-saving change. dateutil's rrule expands
the recurrence on naive local times; each start is then placed in the zone.
A start inside the spring-forward gap (02:30 that does not exist) happens at
the same distance after the gap opens (03:30), as appliances do; a start in the
autumn's repeated hour happens at its first occurrence. Neither is skipped.

Expanding a recurrence walks from its dtstart, so a parsed rule caches its
occurrences (`cache=True`) and one `Recurrence` is shared by every asset with
the same schedule (see `RecurrenceCache`).
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

# Wider than any UTC offset change, so a search in local time never misses a
# start whose UTC order differs from its local order around a DST change.
_MARGIN = timedelta(hours=3)


class Recurrence:
    """One schedule: `rrule` (RFC 5545 RRULE) from `dtstart` (naive local ISO) in `timezone`."""

    def __init__(self, rrule: str, dtstart: str, timezone: str = "UTC"):
        self.zone = ZoneInfo(timezone or "UTC")
        self.first = datetime.fromisoformat(dtstart).replace(tzinfo=None)
        self.rule = rrulestr(rrule.removeprefix("RRULE:"), dtstart=self.first, ignoretz=True, cache=True)

    def to_utc(self, local: datetime) -> datetime:
        # fold=0: the first of a repeated hour; a time in a gap keeps the
        # pre-transition offset, which moves it forward by the gap.
        return local.replace(tzinfo=self.zone, fold=0).astimezone(UTC)

    def to_local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone).replace(tzinfo=None)

    def latest_start(self, at_or_before: datetime) -> datetime | None:
        """The latest start S (UTC) with S ≤ `at_or_before` (aware)."""
        candidate = self.rule.before(self.to_local(at_or_before) + _MARGIN, inc=True)
        while candidate is not None and self.to_utc(candidate) > at_or_before:
            candidate = self.rule.before(candidate)
        return self.to_utc(candidate) if candidate is not None else None

    def latest_due_start(self, now: datetime, hours: int) -> datetime | None:
        """R5.1: the latest start S with S + N ≤ now."""
        return self.latest_start(now - timedelta(hours=hours))

    def next_start(self, after: datetime) -> datetime | None:
        """The first start strictly after `after` (aware), in UTC."""
        candidate = self.rule.after(self.to_local(after) - _MARGIN, inc=True)
        while candidate is not None and self.to_utc(candidate) <= after:
            candidate = self.rule.after(candidate)
        return self.to_utc(candidate) if candidate is not None else None

    def count_starts(self, after: datetime | None, until: datetime) -> int:
        """Starts S with `after` < S ≤ `until` (UTC); from the first start when `after` is None."""
        low = self.to_local(after) - _MARGIN if after is not None else self.first
        starts = self.rule.between(low, self.to_local(until) + _MARGIN, inc=True)
        return sum(
            1 for s in starts
            if (after is None or self.to_utc(s) > after) and self.to_utc(s) <= until
        )


class RecurrenceCache:
    """One `Recurrence` per distinct (rrule, dtstart, timezone) for one evaluation."""

    def __init__(self):
        self._recurrences: dict[tuple[str, str, str], Recurrence] = {}
        self._due: dict[tuple, datetime | None] = {}

    def get(self, rrule: str, dtstart: str, timezone: str) -> Recurrence:
        key = (rrule, dtstart, timezone)
        recurrence = self._recurrences.get(key)
        if recurrence is None:
            recurrence = self._recurrences[key] = Recurrence(rrule, dtstart, timezone)
        return recurrence

    def latest_due_start(self, rrule, dtstart, timezone, now, hours) -> datetime | None:
        key = (rrule, dtstart, timezone, now, hours)
        if key not in self._due:
            self._due[key] = self.get(rrule, dtstart, timezone).latest_due_start(now, hours)
        return self._due[key]


def describe_local(moment: datetime | None, timezone: str) -> str:
    """A time as the appliance's clock shows it: "2026-11-01 22:00 Europe/Paris"; "–" for none."""
    if moment is None:
        return "–"
    return f"{moment.astimezone(ZoneInfo(timezone or 'UTC')):%Y-%m-%d %H:%M} {timezone or 'UTC'}"
