"""Backup schedules as RFC 5545 recurrences in the appliance's time zone.

A start is a local wall-clock time of the appliance: "every day at 22:00" stays
at 22:00 on both sides of a daylight-saving change. dateutil's rrule expands
the recurrence on naive local times; each start is then placed in the zone.
A start inside the spring-forward gap (02:30 that does not exist) happens at
the same distance after the gap opens (03:30), as appliances do; a start in the
autumn's repeated hour happens at its first occurrence. Neither is skipped.

Expanding a recurrence walks from its dtstart, so a `Recurrence` keeps the
starts it expanded, and one `Recurrence` is shared by every asset with the same
schedule (see `RecurrenceCache`).
"""

from bisect import bisect_left, bisect_right
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

# Wider than any UTC offset change, so a search in local time never misses a
# start whose UTC order differs from its local order around a DST change.
_MARGIN = timedelta(hours=3)


class Recurrence:
    """One schedule: `rrule` (RFC 5545 RRULE) from `dtstart` (naive local ISO) in `timezone`.

    Its starts are expanded once, in order, as far as a question needs, and kept in a
    list that every later question searches by bisection (dateutil's own `before` and
    `after` walk from the first start each time)."""

    def __init__(self, rrule: str, dtstart: str, timezone: str = "UTC"):
        self.zone = ZoneInfo(timezone or "UTC")
        self.first = datetime.fromisoformat(dtstart).replace(tzinfo=None)
        rule = rrulestr(rrule.removeprefix("RRULE:"), dtstart=self.first, ignoretz=True)
        self._pending = iter(rule)
        self._starts: list[datetime] = []  # naive local, ascending
        self._complete = False
        self._utc: dict[datetime, datetime] = {}  # every asset on this schedule asks about the same starts

    def _expand_past(self, local: datetime) -> None:
        """Expand until one start lies beyond `local` (or the rule ends)."""
        while not self._complete and (not self._starts or self._starts[-1] <= local):
            start = next(self._pending, None)
            if start is None:
                self._complete = True
            else:
                self._starts.append(start)

    def _before(self, local: datetime, inc: bool) -> datetime | None:
        self._expand_past(local)
        index = (bisect_right if inc else bisect_left)(self._starts, local)
        return self._starts[index - 1] if index else None

    def _after(self, local: datetime, inc: bool) -> datetime | None:
        self._expand_past(local)
        index = (bisect_left if inc else bisect_right)(self._starts, local)
        return self._starts[index] if index < len(self._starts) else None

    def to_utc(self, local: datetime) -> datetime:
        # fold=0: the first of a repeated hour; a time in a gap keeps the
        # pre-transition offset, which moves it forward by the gap.
        moment = self._utc.get(local)
        if moment is None:
            moment = self._utc[local] = local.replace(tzinfo=self.zone, fold=0).astimezone(UTC)
        return moment

    def to_local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone).replace(tzinfo=None)

    def latest_start(self, at_or_before: datetime) -> datetime | None:
        """The latest start S (UTC) with S ≤ `at_or_before` (aware)."""
        candidate = self._before(self.to_local(at_or_before) + _MARGIN, inc=True)
        while candidate is not None and self.to_utc(candidate) > at_or_before:
            candidate = self._before(candidate, inc=False)
        return self.to_utc(candidate) if candidate is not None else None

    def latest_due_start(self, now: datetime, hours: int) -> datetime | None:
        """R5.1: the latest start S with S + N ≤ now."""
        return self.latest_start(now - timedelta(hours=hours))

    def next_start(self, after: datetime) -> datetime | None:
        """The first start strictly after `after` (aware), in UTC."""
        candidate = self._after(self.to_local(after) - _MARGIN, inc=True)
        while candidate is not None and self.to_utc(candidate) <= after:
            candidate = self._after(candidate, inc=False)
        return self.to_utc(candidate) if candidate is not None else None

    def count_starts(self, after: datetime | None, until: datetime) -> int:
        """Starts S with `after` < S ≤ `until` (UTC); from the first start when `after` is None."""
        high = self.to_local(until) + _MARGIN
        self._expand_past(high)
        low = bisect_left(self._starts, self.to_local(after) - _MARGIN) if after is not None else 0
        return sum(
            1 for s in self._starts[low:bisect_right(self._starts, high)]
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


@lru_cache(maxsize=65536)
def describe_local(moment: datetime | None, timezone: str) -> str:
    """A time as the appliance's clock shows it: "2026-11-01 22:00 Europe/Paris"; "–" for none."""
    if moment is None:
        return "–"
    return f"{moment.astimezone(ZoneInfo(timezone or 'UTC')):%Y-%m-%d %H:%M} {timezone or 'UTC'}"
