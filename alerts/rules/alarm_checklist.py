"""What a conditional alarm records (R7): the five checks, one root cause and the next step,
from the rows `alerts/rules/backup_queries.py` read.

Details hold nothing that moves by itself (no ages, no "last contact" of an
online appliance), so an evaluation with nothing changed writes nothing.
"""

from datetime import UTC, timedelta
from functools import lru_cache

from django.conf import settings
from django.urls import reverse

from alerts.categories import KINDS
from alerts.conditions import Condition
from inventory.models import Appliance, Backup
from inventory.schedules import RecurrenceCache, describe_local


def _status_at(status, finished, now):
    """A job that had not finished at `now` was running then, whatever it became later."""
    if status and (finished is None or finished > now):
        return Backup.Status.RUNNING
    return status


def appliance_online(row, now) -> bool:
    contact = row["appliance__last_contact_at"]
    cutoff = now - timedelta(minutes=settings.APPLIANCE_OFFLINE_MINUTES)
    return row["appliance__status"] != Appliance.Status.OFFLINE and contact is not None and contact >= cutoff


ROOT_CAUSES = {
    # R7.2, in order: the first that applies is the root cause; each names the check it fails.
    "appliance_offline": ("Appliance offline", "appliance"),
    "no_backup_schedule": ("No backup schedule", "backup_schedule"),
    "last_backup_failed": ("Last backup failed", "last_good_backup"),
    "scheduled_backup_did_not_run": ("Scheduled backup did not run", "last_good_backup"),
    "backup_running": ("Backup still running past the threshold", "last_good_backup"),
    "no_hot_copy_target": ("No hot copy target", "hot_copy_schedule"),
    "last_hot_copy_failed": ("Last hot copy failed", "last_good_hot_copy"),
    "hot_copy_did_not_run": ("Hot copy did not run", "last_good_hot_copy"),
}

NEXT_STEPS = {
    "appliance_offline": "Bring appliance {appliance} back online (power, network, portal connection); its alarms clear once it reports a good backup.",
    "no_backup_schedule": "Add {asset} to a backup schedule on appliance {appliance}.",
    "last_backup_failed": "Read the error of the failed backup on appliance {appliance}, fix its cause and run a backup of {asset} now.",
    "scheduled_backup_did_not_run": "Check that the schedule on appliance {appliance} is enabled and includes {asset}, then run a backup now.",
    "backup_running": "Look at the running backup of {asset} on appliance {appliance}; if it is stuck, cancel it and start it again.",
    "no_hot_copy_target": "Set up a hot copy target (Unitrends Cloud or a secondary appliance) on appliance {appliance}.",
    "last_hot_copy_failed": "Read the error of the failed hot copy, check the connection from appliance {appliance} to its hot copy target and retry the copy.",
    "hot_copy_did_not_run": "Check the hot copy queue of appliance {appliance} and its connection to the target; start the copy of {asset} by hand if it is not queued.",
}

_FAILED = (Backup.Status.FAILED, Backup.Status.CANCELLED)


def root_cause(kind, row, now, online) -> tuple[str, str]:
    """R7.2: the first cause that applies, with the error where there is one."""
    if not online:
        return "appliance_offline", ""
    if kind == "backup_alarm":
        backup_status = _status_at(row.get("last_backup_status"), row.get("last_backup_finished"), now)
        if not row["schedules"]:
            return "no_backup_schedule", ""
        if backup_status in _FAILED:
            return "last_backup_failed", row.get("last_backup_error") or ""
        if backup_status == Backup.Status.RUNNING:
            return "backup_running", ""
        return "scheduled_backup_did_not_run", ""
    copy_status = _status_at(row.get("last_copy_status"), row.get("last_copy_finished"), now)
    if copy_status is None:
        return "no_hot_copy_target", ""
    if copy_status in _FAILED:
        return "last_hot_copy_failed", row.get("last_copy_error") or ""
    return "hot_copy_did_not_run", ""


@lru_cache(maxsize=4096)
def _iso(moment):
    # Cached: the checklists of a bad day repeat the same few starts thousands of times.
    return moment.astimezone(UTC).isoformat() if moment else None


def pairs(row) -> list[tuple[str, str]]:
    """The (rrule, dtstart) of each of the asset's schedules."""
    return [(s["rrule"], s["dtstart"]) for s in row["schedules"]]


def schedule_facts(cache: RecurrenceCache, row, now, backups_hours, due_start=None) -> dict:
    """The backup schedules as the checklist shows them: each one's last and next start,
    and whether a good backup finished since the start that is due over all of them (R5.1).
    A schedule no one can read (or too costly to expand, R4.7) shows no starts."""
    zone = row["appliance__timezone"]
    if due_start is None:
        due_start = cache.latest_due_over(pairs(row), zone, now, backups_hours)
    # The same schedules in the same zone show the same starts on every asset that has them:
    # worked out (and written as the checklist's line) once per evaluation, not once per alarm.
    key = ("facts", tuple((s["name"], s["rrule"], s["dtstart"]) for s in row["schedules"]), zone, now)
    facts = cache.memo.get(key)
    if facts is None:
        facts = cache.memo[key] = _starts_of(cache, row["schedules"], zone, now)
    last_good = row["last_good_end"]
    return {
        **facts,
        "due_start": due_start,
        "backup_ok": bool(facts["schedules"]) and (
            due_start is None or (last_good is not None and last_good >= due_start)),
    }


def _starts_of(cache, schedules, zone, now) -> dict:
    each = []
    for schedule in schedules:
        try:
            recurrence = cache.get(schedule["rrule"], schedule["dtstart"], zone)
            last, following = recurrence.latest_start(now), recurrence.next_start(now)
        except (ValueError, TypeError, KeyError):
            last = following = None
        each.append({"name": schedule["name"], "rrule": schedule["rrule"], "last_start": last, "next_start": following})
    lasts = [s["last_start"] for s in each if s["last_start"]]
    nexts = [s["next_start"] for s in each if s["next_start"]]
    facts = {"last_start": max(lasts) if lasts else None, "next_start": min(nexts) if nexts else None,
             "schedules": each}
    facts["check"] = _schedule_check(facts, zone)  # shared by the alarms' details: read, never changed
    return facts


def checks(row, now, schedule, online) -> list[dict]:
    """R7.1: the five things checked, each with a plain value and whether it is fine
    (`ok` is None where it does not apply, e.g. hot copy of an asset that is not hot-copied)."""
    zone = row["appliance__timezone"]
    contact = row["appliance__last_contact_at"]
    good_copy = row.get("last_good_copy_end")
    return [
        {"key": "appliance", "label": "Appliance status", "ok": online,
         "value": f"{row['appliance__name']}: online" if online else
         f"{row['appliance__name']}: offline, last contact {describe_local(contact, zone)}"},
        {"key": "last_good_backup", "label": "Last good backup", "ok": schedule["backup_ok"],
         "value": describe_local(row["last_good_end"], zone), "at": _iso(row["last_good_end"])},
        schedule["check"] if "check" in schedule else _schedule_check(schedule, zone),
        {"key": "last_good_hot_copy", "label": "Last good hot copy",
         "ok": schedule["hot_copy_ok"] if row["hot_copy"] else None,
         "value": describe_local(good_copy, zone), "at": _iso(good_copy)},
        {"key": "hot_copy_schedule", "label": "Hot copy schedule",
         "ok": (row.get("last_copy_status") is not None) if row["hot_copy"] else None,
         "value": _hot_copy_schedule(row)},
    ]


def _schedule_check(schedule, zone) -> dict:
    """R7.1: each of the asset's schedules with its last and next start (R4.7)."""
    each = schedule.get("schedules") or []
    value = "; ".join(
        f"{s['name'] + ' (' + s['rrule'] + ')' if s['name'] else s['rrule']} — last start"
        f" {describe_local(s['last_start'], zone)}, next start {describe_local(s['next_start'], zone)}"
        for s in each
    )
    return {
        "key": "backup_schedule", "label": "Backup schedules" if len(each) > 1 else "Backup schedule",
        "ok": bool(each), "value": value or "none",
        "last_start": _iso(schedule["last_start"]), "next_start": _iso(schedule["next_start"]),
        "schedules": [
            {"name": s["name"], "rrule": s["rrule"], "last_start": _iso(s["last_start"]),
             "next_start": _iso(s["next_start"])}
            for s in each
        ],
    }


def _hot_copy_schedule(row) -> str:
    if not row["hot_copy"]:
        return "backups are not hot-copied"
    if row.get("last_copy_status") is None:
        return "backups are hot-copied, but no hot copy has been seen (no hot copy target?)"
    return "backups are hot-copied"


def alarm_details(kind, row, now, threshold_label, threshold_source, schedule, **more) -> dict:
    """Everything the alarm shows: threshold and origin, the checklist, root cause and next step."""
    online = appliance_online(row, now)
    cause, error = root_cause(kind, row, now, online)
    label, failing = ROOT_CAUSES[cause]
    names = {"asset": row["name"], "appliance": row["appliance__name"]}
    return {
        "asset": row["name"],
        "threshold": threshold_label,
        "threshold_source": threshold_source,
        **more,
        "root_cause": cause,
        "root_cause_label": label + (f": {error}" if error else ""),
        "failing_check": failing,
        "next_step": NEXT_STEPS[cause].format(**names),
        "checks": checks(row, now, schedule, online),
    }


@lru_cache(maxsize=1)
def _link_templates() -> tuple[str, str]:
    # Reversed once: thousands of alarms would otherwise reverse thousands of times.
    asset = reverse("inventory:asset", args=[987654321]).replace("987654321", "{}")
    return reverse("dashboard:alerts") + "?organization={}", asset


def alarm_condition(kind, row, title, details) -> Condition:
    """The alert of a conditional alarm on one asset, grouped by organization and kind (R11.1)."""
    organization, asset = _link_templates()
    return Condition(
        kind=kind,
        subject=f"asset:{row['id']}",
        title=title,
        organization_id=row["organization_id"],
        appliance_id=row["appliance_id"],
        asset_id=row["id"],
        details=details,
        links={
            "organization": settings.PORTAL_URL + organization.format(row["organization_id"]),
            "asset": settings.PORTAL_URL + asset.format(row["id"]),
        },
        group_key=f"{row['organization_id']}:{kind}",
        group_label=f"{row['organization__name']} — {KINDS[kind]}",
    )

