"""Backup alarm (R5): an asset on one or more schedules without a good backup since the
start that is due, i.e. the latest start S, over all its schedules (R4.7), with
S + N ≤ now (N: the effective threshold). A weekly full job order does not hide six
missed daily incrementals: the daily one's start is the later due start.

Set-based: the thresholds (two queries), the schedules of the assets that may alarm
with their newest good backup (one query) and, for those that alarm, their checklist
(one query; the schedules came with the first): four queries whatever the number of assets. Schedules are
expanded once per distinct (rule, start, time zone), not once per asset, and only
near the moments asked about (inventory/schedules.py).
"""

from alerts.rules.alarm_checklist import alarm_condition, alarm_details, pairs, schedule_facts
from alerts.rules.backup_queries import alarm_rows, scheduled_assets
from alerts.set_writes import batched
from inventory.schedules import RecurrenceCache
from thresholds.effective import effective_thresholds

KIND = "backup_alarm"
BATCH = 5000  # alarming assets whose checklist is read in one query


def _alarming(account, now, thresholds, cache, assets):
    hours = [t.backups_hours for t in [thresholds.global_, *thresholds.custom.values()] if t.backups_enabled]
    if not hours:
        return
    for asset_id, organization_id, zone, schedules, last_good in scheduled_assets(account, now, min(hours), assets):
        threshold = thresholds.for_organization(organization_id)
        if not threshold.backups_enabled:
            continue  # R5.2: the rule no longer applies
        due = cache.latest_due_over(pairs({"schedules": schedules}), zone, now, threshold.backups_hours)  # R5.1, R4.7
        if due is not None and (last_good is None or last_good < due):  # R5.1
            yield asset_id, threshold, due, schedules


def conditions(account, now, assets=None):
    """`assets` (ids): only those assets' conditions (evaluation by due time); None: all."""
    thresholds = effective_thresholds(account)
    if thresholds.global_ is None:
        return  # R4.1: no global threshold, no conditional alarms
    cache = RecurrenceCache()
    missed = {}  # R5.3's count, by what it depends on: assets on the same schedules share it
    # Issue 17: in batches (the assets come in id order), so a bad day holds one batch of
    # checklists at a time, not one per asset of the account.
    for alarming in batched(_alarming(account, now, thresholds, cache, assets), BATCH):
        rows = alarm_rows([found[0] for found in alarming], now, {found[0]: found[3] for found in alarming})
        for asset_id, threshold, due, _ in alarming:
            if asset_id in rows:
                yield _condition(rows[asset_id], threshold, due, now, cache, missed)


def _condition(row, threshold, due, now, cache, missed):
    hours = threshold.backups_hours
    schedule = schedule_facts(cache, row, now, hours, due_start=due)
    schedule["hot_copy_ok"] = row["last_good_copy_end"] is not None
    # R5.3: further missed starts keep this alert; its details count them (distinct
    # start times over all schedules, over at most the last COUNT_WINDOW).
    key = (tuple(pairs(row)), row["appliance__timezone"], row["last_good_end"], due)
    if key not in missed:
        missed[key] = cache.missed_starts(*key)
    details = alarm_details(
        KIND, row, now, threshold.backups_label, threshold.source, schedule,
        missed_starts=missed[key], due_start=due.isoformat(),
    )
    return alarm_condition(KIND, row, f"No good backup of {row['name']} within {hours} h of its scheduled start", details)
