"""The schedules step: hot copy flags and backup schedules from the appliance's job orders (R4.7, R5.2)."""

from datetime import datetime

from integrations import glitches
from integrations.sync_warnings import warn
from inventory import due
from inventory.models import Asset, BackupSchedule
from inventory.schedules import ScheduleError, check
from tenancy.validation import clean_name


def schedules(client, appliance, since, now) -> int:
    """Hot copy flags and backup schedules from the job orders: every backup job order an
    asset is in is one of its schedules (R4.7); one it left, or one disabled, is removed.
    A job order whose schedule is refused (more often than every 15 minutes, or a first
    start more than 10 years back) is skipped with a warning, never stored."""
    by_id = {a.external_id: a for a in Asset.objects.filter(appliance=appliance).prefetch_related("backup_schedules")}
    wanted, copied = {external_id: [] for external_id in by_id}, set()
    orders = client.job_orders()
    held = _hold_empty_job_orders(appliance, orders, by_id, now)
    for order in orders:
        kind = str(order.get("type", "")).lower()
        instances = [str(i) for i in order.get("instances") or [] if str(i) in by_id]
        if "replication" in kind or "hot" in kind:
            copied.update(instances)
        elif "backup" in kind and order.get("status", "active") != "disabled":
            schedule = _schedule(order, now)
            for instance in instances if schedule else ():
                wanted[instance].append(schedule)
    changed = 0
    for external_id, asset in by_id.items():
        if asset.hot_copy != (external_id in copied):
            Asset.objects.filter(pk=asset.pk).update(hot_copy=external_id in copied)
            due.assets_changed([asset.pk])
            changed += 1
        current = [(s.name, s.rrule, s.dtstart) for s in asset.backup_schedules.all()]
        if asset.pk in held:
            continue
        if sorted(current) != sorted(wanted[external_id]):  # R5.2: a job order left or removed goes
            BackupSchedule.objects.filter(asset=asset).delete()
            due.assets_changed([asset.pk])  # evaluation by due time
            BackupSchedule.objects.bulk_create(
                BackupSchedule(account_id=asset.account_id, asset=asset, name=name, rrule=rrule, dtstart=dtstart)
                for name, rrule, dtstart in wanted[external_id]
            )
            changed += 1
    return changed


def _hold_empty_job_orders(appliance, orders, by_id, now) -> set:
    """R15.3: an appliance that suddenly lists no job orders where its assets had schedules keeps
    them (and their backup alarms) until a sync at least an hour later agrees. Answers the ids of
    the assets whose schedules are kept for now."""
    integration = glitches.polled_integration()
    if integration is None:
        return set()
    scheduled = [a.pk for a in by_id.values() if a.backup_schedules.all()]
    empties = {}
    if not orders and scheduled:
        empties["job_orders"] = (
            f"{appliance.name} answered no job orders; the schedules of {len(scheduled)} asset(s) are kept.",
            scheduled,
        )
    return glitches.hold(integration, now, empties)


def _schedule(order, now):
    """(name, rrule, dtstart) of a backup job order; None, with a warning, when it cannot be used."""
    parsed = _recurrence(order.get("schedule"))
    if parsed is None:
        return None
    name = clean_name(order.get("name") or "", 200) or f"Job order {order.get('id')}"[:200]  # one line, like an asset's
    try:
        rrule = check(parsed[0], datetime.fromisoformat(parsed[1]), now)
    except ScheduleError as exc:
        warn(f"Job order “{name}” was skipped: {exc}")
        return None
    return name, rrule, parsed[1]


def _recurrence(text):
    """('FREQ=…', '2026-10-01T22:00:00') from `DTSTART:20261001T220000\\nRRULE:FREQ=…`; None if unreadable."""
    rrule = dtstart = None
    for line in str(text or "").replace("\\n", "\n").splitlines():
        key, _, value = line.strip().partition(":")
        if key.upper().startswith("DTSTART"):
            try:
                dtstart = datetime.strptime(value.strip()[:15], "%Y%m%dT%H%M%S").isoformat()
            except ValueError:
                return None
        elif key.upper() == "RRULE":
            rrule = value.strip()
    return (rrule, dtstart) if rrule and dtstart else None
