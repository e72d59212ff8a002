"""The 30-day backup grid: a cell a day per asset, from its stored backups and its schedules.

A day (in the appliance's time zone) is
- good: a backup of that day succeeded;
- warning: the best backup of that day completed with warnings;
- failed: backups ran that day and none completed (failed or cancelled);
- missed: a schedule started that day (before now) and no backup ran;
- none: no schedule started that day and no backup ran (or the day is still to come).
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils.html import escape
from django.utils.safestring import mark_safe

from inventory.models import Backup
from inventory.schedules import RecurrenceCache

DAYS = 30
STATES = {
    "good": ("#2f855a", "a good backup"),
    "warning": ("#b7791f", "a backup with warnings"),
    "failed": ("#c53030", "backups failed"),
    "missed": ("#6b46c1", "a scheduled backup did not run"),
    "none": ("#e2e8f0", "nothing scheduled"),
}
RANK = {"success": 3, "warning": 2, "failed": 1, "cancelled": 1}
DAY_STATE = {3: "good", 2: "warning", 1: "failed"}


@dataclass
class Row:
    asset: object
    days: list  # (date, state), oldest first

    @property
    def counts(self) -> dict:
        counts = dict.fromkeys(STATES, 0)
        for _, state in self.days:
            counts[state] += 1
        return counts

    @property
    def svg(self):
        return grid_svg(self.asset.name, self.days)


def _zone(asset):
    try:
        return ZoneInfo(asset.appliance.timezone or "UTC")
    except (ValueError, KeyError):
        return ZoneInfo("UTC")


def _scheduled_days(asset, zone, start, now, cache) -> set[date]:
    days = set()
    for schedule in asset.backup_schedules.all():
        try:
            recurrence = cache.get(schedule.rrule, schedule.dtstart, asset.appliance.timezone or "UTC")
            starts = recurrence.starts(start, now)
        except (ValueError, TypeError, KeyError, OverflowError):
            continue  # a schedule no one can read shows as nothing scheduled
        days.update(s.astimezone(zone).date() for s in starts)
    return days


def rows(assets, now) -> list[Row]:
    """One row per asset (give them with `appliance` selected and `backup_schedules` prefetched)."""
    assets = list(assets)
    earliest = now - timedelta(days=DAYS + 1)
    best = defaultdict(dict)  # asset id -> {day: rank}
    zones = {a.pk: _zone(a) for a in assets}
    backups = Backup.objects.filter(asset__in=[a.pk for a in assets], started_at__gte=earliest, started_at__lte=now)
    for asset_id, status, started in backups.values_list("asset_id", "status", "started_at"):
        day = started.astimezone(zones[asset_id]).date()
        best[asset_id][day] = max(best[asset_id].get(day, 0), RANK.get(status, 0))
    cache = RecurrenceCache()
    result = []
    for asset in assets:
        zone = zones[asset.pk]
        today = now.astimezone(zone).date()
        days = [today - timedelta(days=DAYS - 1 - i) for i in range(DAYS)]
        first = datetime.combine(days[0], time(), zone)
        scheduled = _scheduled_days(asset, zone, first, now, cache)
        cells = []
        for day in days:
            rank = best[asset.pk].get(day, 0)
            state = DAY_STATE.get(rank) or ("missed" if day in scheduled else "none")
            cells.append((day, state))
        result.append(Row(asset, cells))
    return result


def grid_svg(name, days, cell=14, gap=3):
    """A row of cells, oldest on the left, each with its date and state as a tooltip."""
    width = len(days) * (cell + gap)
    counts = defaultdict(int)
    rects = []
    for i, (day, state) in enumerate(days):
        counts[state] += 1
        colour, words = STATES[state]
        rects.append(
            f'<rect x="{i * (cell + gap)}" y="0" width="{cell}" height="{cell}" rx="2" fill="{colour}"'
            f' class="cell cell-{state}" data-day="{day.isoformat()}"><title>{day:%a %-d %b}: {words}</title></rect>'
        )
    summary = ", ".join(f"{n} {state}" for state, n in counts.items())
    label = f"{name}, last {len(days)} days: {summary}"
    return mark_safe(
        f'<svg class="grid" viewBox="0 0 {width} {cell}" width="{width}" height="{cell}" role="img"'
        f' aria-label="{escape(label)}"><title>{escape(label)}</title>{"".join(rects)}</svg>'
    )
