"""Backup alarm (R5): an asset on a schedule without a good backup since the start
that is due, i.e. the latest start S with S + N ≤ now (N: the effective threshold).

Set-based: the thresholds (two queries), the assets with their newest good backup
(one query) and, for those that alarm, their checklist (one query): four queries
whatever the number of assets. Schedules are
expanded once per distinct (rule, start, time zone), not once per asset.
"""

from alerts.rules.alarm_details import (
    alarm_condition,
    alarm_details,
    alarm_rows,
    schedule_facts,
    scheduled_assets,
)
from inventory.schedules import RecurrenceCache
from thresholds.effective import effective_thresholds

KIND = "backup_alarm"


def _alarming(account, now, thresholds, cache):
    hours = [t.backups_hours for t in [thresholds.global_, *thresholds.custom.values()] if t.backups_enabled]
    if not hours:
        return
    for asset_id, organization_id, zone, rrule, dtstart, last_good in scheduled_assets(account, now, min(hours)):
        threshold = thresholds.for_organization(organization_id)
        if not threshold.backups_enabled:
            continue  # R5.2: the rule no longer applies
        try:
            due = cache.latest_due_start(rrule, dtstart, zone, now, threshold.backups_hours)
        except (ValueError, TypeError, KeyError):
            continue  # a schedule no one can read protects nothing we can check
        if due is not None and (last_good is None or last_good < due):  # R5.1
            yield asset_id, threshold, due


def conditions(account, now):
    thresholds = effective_thresholds(account)
    if thresholds.global_ is None:
        return  # R4.1: no global threshold, no conditional alarms
    cache = RecurrenceCache()
    alarming = sorted(_alarming(account, now, thresholds, cache), key=lambda found: found[0])
    rows = alarm_rows([asset_id for asset_id, _, _ in alarming], now)
    for asset_id, threshold, due in alarming:
        if asset_id in rows:
            yield _condition(rows[asset_id], threshold, due, now, cache)


def _condition(row, threshold, due, now, cache):
    hours = threshold.backups_hours
    schedule = schedule_facts(cache, row, now, hours, due_start=due)
    schedule["hot_copy_ok"] = row["last_good_copy_end"] is not None
    recurrence = cache.get(row["backup_schedule__rrule"], row["backup_schedule__dtstart"], row["appliance__timezone"])
    # R5.3: further missed starts keep this alert; its details count them.
    missed = recurrence.count_starts(row["last_good_end"], due)
    details = alarm_details(
        KIND, row, now, threshold.backups_label, threshold.source, schedule,
        missed_starts=missed, due_start=due.isoformat(),
    )
    return alarm_condition(KIND, row, f"No good backup of {row['name']} within {hours} h of its scheduled start", details)
