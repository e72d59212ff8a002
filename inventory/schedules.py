"""Backup schedules as RFC 5545 recurrences in the appliance's time zone.

A start is a local wall-clock time of the appliance: "every day at 22:00" stays
at 22:00 on both sides of a daylight-saving change. dateutil's rrule expands
the recurrence on naive local times; each start is then placed in the zone.
A start inside the spring-forward gap (02:30 that does not exist) happens at
the same distance after the gap opens (03:30), as appliances do; a start in the
autumn's repeated hour happens at its first occurrence. Neither is skipped.

Bounded cost (R4.7): dateutil walks a recurrence from its first start, so a rule
started long ago, or one that recurs every second, could keep a worker busy for
hours. Here a question only ever expands a window near the moment it asks about:
the rule is rebuilt with its first start moved forward by a whole number of
periods (so every start keeps its place). Before any window, a schedule that
reached the database without the API's check is vetted once: one recurring more
often than every 15 minutes there, or with no start for years, is unreadable, like
a malformed one. Every expansion spends from a budget of steps (one per start
drawn, `MONTH_STEPS` per month dateutil scans), so no stored rule costs more than
`STEP_BUDGET` steps per evaluation. An evaluation's questions about one schedule
share one kept range of starts, so a thousand alarming assets on it expand it once.
"""

from bisect import bisect_left, bisect_right
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from dateutil.rrule import (
    DAILY,
    HOURLY,
    MINUTELY,
    MONTHLY,
    SECONDLY,
    WEEKLY,
    YEARLY,
    rrule,
    rrulestr,
    weekday,
)

# Wider than any UTC offset change, so a search in local time never misses a
# start whose UTC order differs from its local order around a DST change.
_MARGIN = timedelta(hours=3)
MIN_GAP = timedelta(minutes=15)  # R4.7: a schedule recurs at most every 15 minutes
MAX_AGE = relativedelta(years=10)  # R4.7: its first start is at most 10 years back
# Per schedule and evaluation (well under a second): room for a 15-minute rule's starts
# over a year-long threshold plus the 92 days of missed starts before it.
STEP_BUDGET = 100_000
MONTH_STEPS = 100  # a month dateutil scans costs about as much as 40–100 starts it yields (a day loop each)
CHECK_BUDGET = 20_000  # at the door: 16 days of starts, or some 16 years of months without one
COUNT_WINDOW = timedelta(days=92)  # R5.3: missed starts are counted over at most this much time
_FIRST_LOOK = timedelta(days=2)  # a latest start is looked for this far back first, then 4× further each time
_GAP_SPAN = timedelta(days=16)  # the first starts a gap check reads (R4.7)


class ScheduleError(ValueError):
    """A schedule refused or unreadable; `field` is what to fix ("rrule" or "dtstart")."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class TooCostly(ScheduleError):
    """The expansion spent its whole budget of steps."""


class Steps:
    """A budget of rrule steps; `spent` says how many a recurrence used."""

    def __init__(self, budget: int = STEP_BUDGET):
        self.budget, self.spent = budget, 0

    def spend(self, steps: int = 1) -> None:
        if self.spent + steps > self.budget:
            self.spent = self.budget  # spent: every later question stops at its first step
            raise TooCostly("rrule", f"This schedule needs more than {self.budget} steps to evaluate.")
        self.spent += steps


class _CountedRule(rrule):
    """An rrule that spends a step each time dateutil rebuilds its month (or year) masks.

    dateutil reads `_byeaster` once per rebuild (and once when iteration begins), and
    a rebuild happens for every month it scans, whether or not a start falls in it, so
    a rule that never matches again (BYMONTH=2;BYMONTHDAY=30) stops within the budget
    instead of scanning to the year 9999."""

    @property
    def _byeaster(self):
        steps = self.__dict__.get("_steps")
        if steps is not None:
            steps.spend(MONTH_STEPS)
        return self.__dict__.get("_easter")

    @_byeaster.setter
    def _byeaster(self, value):
        self.__dict__["_easter"] = value


def parse(text: str, first: datetime) -> rrule:
    """The rule of `text` (RRULE value, with or without the "RRULE:" prefix) from `first` (naive)."""
    try:
        rule = rrulestr(str(text).removeprefix("RRULE:"), dtstart=first, ignoretz=True)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ScheduleError("rrule", f"Not an RFC 5545 recurrence: {exc}") from exc
    if not isinstance(rule, rrule):
        raise ScheduleError("rrule", "Give one RRULE, without EXDATE or RDATE lines.")
    if rule._bysetpos and rule._freq >= MINUTELY:
        # Each minute (or second) would be one dateutil step yielding nothing.
        raise ScheduleError("rrule", "BYSETPOS works only with an hourly or longer frequency.")
    return rule


def _explicit(rule: rrule) -> dict:
    """The rule's parameters with dateutil's dtstart-derived defaults spelled out, so a
    copy with a later dtstart recurs on exactly the same starts."""
    weekdays = [weekday(d) for d in rule._byweekday or ()] + [weekday(d, n) for d, n in rule._bynweekday or ()]
    monthdays = tuple(rule._bymonthday) + tuple(rule._bynmonthday)
    return {
        "freq": rule._freq, "interval": rule._interval, "wkst": rule._wkst, "count": rule._count,
        "until": rule._until, "bysetpos": rule._bysetpos, "bymonth": rule._bymonth,
        "bymonthday": monthdays or None, "byyearday": rule._byyearday, "byeaster": rule._byeaster,
        "byweekno": rule._byweekno, "byweekday": weekdays or None, "byhour": rule._byhour,
        "byminute": rule._byminute, "bysecond": rule._bysecond,
    }


def _period_start(rule: rrule, first: datetime, low: datetime) -> datetime:
    """The start of the last period of the rule (a whole number of INTERVALs after
    `first`'s own) that begins at or before `low`; `first` when there is none after it."""
    freq, step = rule._freq, rule._interval
    if low <= first:
        return first
    if freq == YEARLY:
        start = datetime(first.year + (low.year - first.year) // step * step, 1, 1)
    elif freq == MONTHLY:
        months = ((low.year - first.year) * 12 + low.month - first.month) // step * step + first.month - 1
        start = datetime(first.year + months // 12, months % 12 + 1, 1)
    elif freq in (WEEKLY, DAILY):
        days = 7 * step if freq == WEEKLY else step
        origin = datetime.combine(first.date(), time())
        if freq == WEEKLY:
            origin -= timedelta(days=(first.weekday() - rule._wkst) % 7)
        start = origin + timedelta(days=(low - origin).days // days * days)
    else:
        unit = {HOURLY: timedelta(hours=1), MINUTELY: timedelta(minutes=1), SECONDLY: timedelta(seconds=1)}[freq]
        origin = first.replace(minute=0, second=0) if freq == HOURLY else first
        origin = origin.replace(second=0) if freq == MINUTELY else origin
        start = origin + (low - origin) // (unit * step) * (unit * step)
    return start if start > first else first


def check(text: str, dtstart: datetime, today: datetime) -> str:
    """R4.7 at the door: the rule (text without "RRULE:") when it is readable, recurs at
    most every 15 minutes and starts at most 10 years before `today`; else ScheduleError."""
    first = dtstart.replace(tzinfo=None, microsecond=0)
    if first < today.replace(tzinfo=None) - MAX_AGE:
        raise ScheduleError("dtstart", "The first start is more than 10 years back; give a start within the last 10 years.")
    rule = parse(text, first)
    if not _first_gaps(_explicit(rule), first, Steps(CHECK_BUDGET)):
        raise ScheduleError("rrule", "This recurrence never starts.")
    return str(text).removeprefix("RRULE:")


def _first_gaps(kwargs: dict, begin: datetime, steps: Steps) -> bool:
    """R4.7: no two of the starts within 16 days of the first one from `begin` are less
    than 15 minutes apart (ScheduleError if they are). Sixteen days hold every pattern a
    sub-daily interval can make with BYHOUR/BYMINUTE/BYSECOND lists, and more than 1,537
    starts in them would put two closer than that anyway. False when the rule has ended
    without a start; ScheduleError when none comes within the budget."""
    rule = _CountedRule(dtstart=begin, **kwargs)
    rule.__dict__["_steps"] = steps
    opening = previous = None
    try:
        for start in rule:
            steps.spend()
            if previous is not None and start - previous < MIN_GAP:
                gap = int((start - previous).total_seconds())
                count, unit = (gap // 60, "minute") if gap >= 60 else (gap, "second")
                raise ScheduleError("rrule", "This schedule starts more often than every 15 minutes"
                                             f" (two starts {count} {unit}{'' if count == 1 else 's'} apart).")
            opening, previous = opening or start, start
            if start - opening > _GAP_SPAN:
                break
    except TooCostly as exc:
        if opening is None:  # months on months without a start: it never starts, for all we can tell
            raise ScheduleError("rrule", "This recurrence never starts.") from exc
    except ScheduleError:
        raise
    except (ValueError, OverflowError) as exc:
        raise ScheduleError("rrule", f"Not an RFC 5545 recurrence: {exc}") from exc
    return opening is not None


class Recurrence:
    """One schedule: `rrule` (RFC 5545 RRULE) from `dtstart` (naive local ISO) in `timezone`.

    Every question expands only a window near the moment it asks about (see the module
    docstring); `steps.spent` says how much expanding it has cost so far."""

    def __init__(self, rrule: str, dtstart: str, timezone: str = "UTC", budget: int = STEP_BUDGET):
        self.zone = ZoneInfo(timezone or "UTC")
        self.first = datetime.fromisoformat(dtstart).replace(tzinfo=None, microsecond=0)
        self._rule = parse(rrule, self.first)
        self._kwargs = _explicit(self._rule)
        self.steps = Steps(budget)
        self._utc: dict[datetime, datetime] = {}  # every asset on this schedule asks about the same starts
        self._answers: dict[tuple, object] = {}
        self._refused: ScheduleError | bool | None = None  # R4.7, see _vet
        self._kept: list[datetime] = []  # the starts in [_low, _high], ascending (naive local)
        self._low: datetime | None = None
        self._high: datetime | None = None

    def _begin(self, low: datetime) -> datetime:
        # A COUNT rule must count from its first start, so it is walked from there.
        return self.first if self._rule._count is not None else _period_start(self._rule, self.first, low)

    def _vet(self, low: datetime) -> None:
        """R4.7 for a schedule that reached the database some other way: one recurring more
        often than every 15 minutes near `low` is unreadable, found within CHECK_BUDGET
        steps, before any window is expanded. Once per schedule."""
        if self._refused is None:
            vetting = Steps(CHECK_BUDGET)
            try:
                _first_gaps(self._kwargs, self._begin(low - _GAP_SPAN), vetting)
                self._refused = False
            except ScheduleError as exc:
                self._refused = exc
            finally:
                self.steps.spent = min(self.steps.budget, self.steps.spent + vetting.spent)
        if self._refused:
            raise self._refused

    def _walk(self, low: datetime):
        """The starts (naive local) from `low` on, ascending, from a copy of the rule that
        begins at the last period boundary before `low`, within the budget."""
        self._vet(low)
        if self._rule._until is not None and low > self._rule._until:
            return
        begin = self._begin(low)
        rule = _CountedRule(dtstart=begin, **self._kwargs)
        rule.__dict__["_steps"] = self.steps
        for start in rule:
            self.steps.spend()
            if start >= low:
                yield start

    def _expand(self, low: datetime, high: datetime) -> list[datetime]:
        """The starts (naive local) in [low, high], ascending."""
        starts = []
        for start in self._walk(low):
            if start > high:
                break
            starts.append(start)
        return starts

    def _starts_within(self, low: datetime, high: datetime) -> list[datetime]:
        """The starts (naive local) in [low, high], from one contiguous range kept for every
        later question: an evaluation asks many (one per alarming asset) about nearby
        moments, and each part of the range is expanded only once."""
        if self._low is None:
            self._kept, self._low, self._high = self._expand(low, high), low, high
        if low < self._low:
            self._kept = [s for s in self._expand(low, self._low) if s < self._low] + self._kept
            self._low = low
        if high > self._high:
            self._kept += [s for s in self._expand(self._high, high) if s > self._high]
            self._high = high
        return self._kept[bisect_left(self._kept, low):bisect_right(self._kept, high)]

    def _memo(self, key, compute):
        if key not in self._answers:
            self._answers[key] = compute()
        return self._answers[key]

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
        return self._memo(("latest", at_or_before), lambda: self._latest_start(at_or_before))

    def _latest_start(self, at_or_before):
        high = self.to_local(at_or_before) + _MARGIN
        look = _FIRST_LOOK
        while True:
            low = self.first if high - self.first <= look else high - look
            for start in reversed(self._starts_within(low, high)):
                if self.to_utc(start) <= at_or_before:
                    return self.to_utc(start)
            if low <= self.first:
                return None
            look *= 4  # a sparse schedule (weekly, monthly, yearly): look further back

    def latest_due_start(self, now: datetime, hours: int) -> datetime | None:
        """R5.1: the latest start S with S + N ≤ now."""
        return self.latest_start(now - timedelta(hours=hours))

    def next_start(self, after: datetime) -> datetime | None:
        """The first start strictly after `after` (aware), in UTC; None when it has ended
        (or would cost more than the budget to find); ScheduleError when R4.7 refuses it."""
        return self._memo(("next", after), lambda: self._next_start(after))

    def _next_start(self, after):
        low = self.to_local(after) - _MARGIN
        self._vet(low)  # a refused schedule is unreadable, not one that has ended
        try:
            for start in self._walk(low):
                if self.to_utc(start) > after:
                    return self.to_utc(start)
        except (TooCostly, OverflowError):
            pass  # a rule that never starts again would walk to the year 9999
        return None

    def starts(self, after: datetime | None, until: datetime) -> list[datetime]:
        """Starts S (UTC) with `after` < S ≤ `until`, over at most COUNT_WINDOW before `until`
        (from the first start when `after` is None)."""
        floor = until - COUNT_WINDOW
        after = floor if after is None or after < floor else after
        local = self._starts_within(self.to_local(after) - _MARGIN, self.to_local(until) + _MARGIN)
        moments = [self.to_utc(s) for s in local]
        return [m for m in moments if after < m <= until]

    def count_starts(self, after: datetime | None, until: datetime) -> int:
        """R5.3: how many starts S with `after` < S ≤ `until` (see `starts`)."""
        return len(self.starts(after, until))


class RecurrenceCache:
    """One `Recurrence` per distinct (rrule, dtstart, timezone) for one evaluation."""

    def __init__(self, budget: int = STEP_BUDGET):
        self._recurrences: dict[tuple[str, str, str], Recurrence] = {}
        self.budget = budget
        self.memo: dict = {}  # answers worked out once per evaluation (its callers' own keys)

    def get(self, rrule: str, dtstart: str, timezone: str) -> Recurrence:
        key = (rrule, dtstart, timezone)
        recurrence = self._recurrences.get(key)
        if recurrence is None:
            recurrence = self._recurrences[key] = Recurrence(rrule, dtstart, timezone, self.budget)
        return recurrence

    def latest_due_start(self, rrule, dtstart, timezone, now, hours) -> datetime | None:
        return self.get(rrule, dtstart, timezone).latest_due_start(now, hours)

    def latest_due_over(self, schedules, timezone, now, hours) -> datetime | None:
        """R5.1: the latest start S with S + N ≤ now over all of an asset's schedules
        ((rrule, dtstart) pairs); an unreadable one is left out. Assets on the same schedules
        share the answer."""
        key = ("due over", tuple(schedules), timezone, now, hours)
        if key not in self.memo:
            due = [self._due_or_none(text, dtstart, timezone, now, hours) for text, dtstart in schedules]
            due = [d for d in due if d is not None]
            self.memo[key] = max(due) if due else None
        return self.memo[key]

    def _due_or_none(self, rrule, dtstart, timezone, now, hours):
        try:
            return self.latest_due_start(rrule, dtstart, timezone, now, hours)
        except (ValueError, TypeError, KeyError):
            return None  # a schedule no one can read protects nothing we can check

    def missed_starts(self, schedules, timezone, after, until) -> int:
        """R5.3: distinct start moments over all schedules with `after` < S ≤ `until`."""
        moments = set()
        for text, dtstart in schedules:
            try:
                moments.update(self.get(text, dtstart, timezone).starts(after, until))
            except (ValueError, TypeError, KeyError):
                continue
        return len(moments)


@lru_cache(maxsize=65536)
def describe_local(moment: datetime | None, timezone: str) -> str:
    """A time as the appliance's clock shows it: "2026-11-01 22:00 Europe/Paris"; "–" for none."""
    if moment is None:
        return "–"
    return f"{moment.astimezone(ZoneInfo(timezone or 'UTC')):%Y-%m-%d %H:%M} {timezone or 'UTC'}"
