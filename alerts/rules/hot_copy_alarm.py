"""Hot backup copy alarm (R6): a hot-copied asset whose newest good backup B with
end E + N ≤ now has no good hot copy, nor has any later backup.

Equivalently: take the oldest good backup that ended after the newest backup
with a good hot copy (the oldest one not yet hot-copied); the alarm holds iff it
ended N hours ago or more. One query finds the assets whose newest good backup has
no good hot copy (few, on a good day); a second finds, for those only, the oldest
good backup not copied. Cold copies never count (R6.2).
"""

from datetime import timedelta

from alerts.rules.alarm_checklist import alarm_condition, alarm_details, schedule_facts
from alerts.rules.backup_queries import alarm_rows, hot_copied_assets, oldest_uncopied_ends
from alerts.set_writes import batched
from inventory.schedules import RecurrenceCache
from thresholds.effective import effective_thresholds

KIND = "hot_copy_alarm"
BATCH = 5000  # alarming assets whose checklist is read in one query


def _alarming(account, now, thresholds, assets):
    candidates = {}
    for asset_id, organization_id in hot_copied_assets(account, now, assets):
        threshold = thresholds.for_organization(organization_id)
        if threshold.hot_copy_enabled:  # R6.2: else the rule no longer applies
            candidates[asset_id] = threshold  # some good backup is not hot-copied yet
    for asset_id, oldest in oldest_uncopied_ends(list(candidates), now).items():
        threshold = candidates[asset_id]
        if oldest is not None and oldest + timedelta(hours=threshold.hot_copy_hours) <= now:
            yield asset_id, threshold, oldest


def conditions(account, now, assets=None):
    """`assets` (ids): only those assets' conditions (evaluation by due time); None: all."""
    thresholds = effective_thresholds(account)
    if thresholds.global_ is None:
        return  # R4.1
    cache = RecurrenceCache()
    alarming = sorted(_alarming(account, now, thresholds, assets), key=lambda found: found[0])
    for batch in batched(alarming, BATCH):  # issue 17: one batch of checklists at a time
        rows = alarm_rows([asset_id for asset_id, _, _ in batch], now)
        for asset_id, threshold, oldest in batch:
            if asset_id in rows:
                yield _condition(rows[asset_id], threshold, oldest, now, cache)


def _condition(row, threshold, oldest, now, cache):
    try:
        schedule = schedule_facts(cache, row, now, threshold.backups_hours)
    except (ValueError, TypeError, KeyError):
        schedule = {"due_start": None, "last_start": None, "next_start": None, "backup_ok": False}
    schedule["hot_copy_ok"] = False
    details = alarm_details(
        KIND, row, now, threshold.hot_copy_label, threshold.source, schedule,
        not_copied_since=oldest.isoformat(),
    )
    return alarm_condition(KIND, row, f"No hot copy of a backup of {row['name']} within {threshold.hot_copy_hours} h", details)
