"""Hot backup copy alarm (R6): a hot-copied asset whose newest good backup B with
end E + N ≤ now has no good hot copy, nor has any later backup.

Equivalently: take the oldest good backup that ended after the newest backup
with a good hot copy (the oldest one not yet hot-copied); the alarm holds iff it
ended N hours ago or more. The database answers both ends per asset in one query;
cold copies never count (R6.2).
"""

from datetime import timedelta

from alerts.conditions import Condition
from alerts.rules.alarm_details import (
    alarm_details,
    alarm_links,
    asset_rows,
    checklist_rows,
    group_fields,
    schedule_facts,
)
from inventory.schedules import RecurrenceCache
from thresholds.effective import effective_thresholds

KIND = "hot_copy_alarm"


def _alarming(account, now, thresholds):
    for row in asset_rows(account, now, hot_copy=True):
        threshold = thresholds.for_organization(row["organization_id"])
        if not threshold.hot_copy_enabled:
            continue  # R6.2: the rule no longer applies
        oldest_uncopied = row["first_uncopied_end"]
        if oldest_uncopied is not None and oldest_uncopied + timedelta(hours=threshold.hot_copy_hours) <= now:
            yield row, threshold


def conditions(account, now):
    thresholds = effective_thresholds(account)
    if thresholds.global_ is None:
        return  # R4.1
    cache = RecurrenceCache()
    alarming = list(_alarming(account, now, thresholds))
    extras = checklist_rows([row["id"] for row, _ in alarming], now)
    for row, threshold in alarming:
        yield _condition(row, threshold, extras.get(row["id"], {}), now, cache)


def _condition(row, threshold, extra, now, cache):
    try:
        schedule = schedule_facts(cache, row, now, threshold.backups_hours)
    except (ValueError, TypeError, KeyError):
        schedule = {"due_start": None, "last_start": None, "next_start": None, "backup_ok": False}
    schedule["hot_copy_ok"] = False
    details = alarm_details(
        KIND, row, extra, now, threshold.hot_copy_label, threshold.source, schedule,
        not_copied_since=row["first_uncopied_end"].isoformat(),
    )
    return Condition(
        kind=KIND,
        subject=f"asset:{row['id']}",
        title=f"No hot copy of a backup of {row['name']} within {threshold.hot_copy_hours} h",
        organization_id=row["organization_id"],
        appliance_id=row["appliance_id"],
        asset_id=row["id"],
        details=details,
        links=alarm_links(row),
        **group_fields(KIND, row),
    )
