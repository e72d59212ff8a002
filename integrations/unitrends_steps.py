"""The steps of an appliance sync: each reads one part of the appliance and writes it to inventory.

Each step is idempotent (upsert by the appliance's own ids), writes only rows
that changed, and skips a malformed row instead of failing the whole step, so
one odd record never blocks the rest. `since` limits the dated reads to what
changed after the last completed sync (with a day of overlap).
"""

from datetime import UTC, datetime, timedelta

from integrations import glitches
from integrations.sync_warnings import warn
from inventory.lifecycle import follow_appliance
from inventory.models import (
    Appliance,
    ApplianceAlert,
    Asset,
    AssetType,
    Backup,
    BackupCopy,
    BackupSchedule,
    Job,
)
from inventory.schedules import ScheduleError, check
from tenancy.validation import clean_name, has_control_characters

MB = 1024 * 1024
STATUSES = {
    "success": "success", "successful": "success", "warning": "warning", "warnings": "warning",
    "failed": "failed", "failure": "failed", "error": "failed", "cancelled": "cancelled", "canceled": "cancelled",
    "running": "running", "active": "running", "in progress": "running", "queued": "running",
}
ASSET_TYPES = {
    "vmware": AssetType.VMWARE, "hyperv": AssetType.HYPERV, "hyper-v": AssetType.HYPERV,
    "windows": AssetType.WINDOWS, "sql": AssetType.SQL, "exchange": AssetType.EXCHANGE,
    "oracle": AssetType.ORACLE, "nas": AssetType.NAS, "ndmp": AssetType.NAS,
}
JOB_STATES = {"running": Job.State.RUNNING, "active": Job.State.RUNNING, "queued": Job.State.QUEUED,
              "waiting": Job.State.QUEUED, "cancelling": Job.State.CANCELLING}


def system(client, appliance, since, now) -> int:
    local = client.local_system()
    version = str(local.get("version") or appliance.version)[:40]
    if version == appliance.version:
        return 0
    Appliance.objects.filter(pk=appliance.pk).update(version=version)
    appliance.version = version
    return 1


def storage(client, appliance, since, now) -> int:
    pools = [s for s in client.storage() if s.get("is_online", True) is not False]
    capacity = sum(_int(s.get("mb_size")) for s in pools) * MB
    free = sum(_int(s.get("mb_free")) for s in pools) * MB
    eligible = client.purge_eligible_backups()
    values = {"logical_capacity_bytes": capacity, "logical_free_bytes": free, "purge_eligible_backups": eligible}
    if all(getattr(appliance, k) == v for k, v in values.items()):
        return 0
    Appliance.objects.filter(pk=appliance.pk).update(**values)
    return 1


def assets(client, appliance, since, now) -> int:
    wanted = {}
    for node in _leaves(client.assets()):
        # The vendor's name is cleaned to one line (a control character would break an email
        # subject, a NUL the database); an id that cannot be stored as given is skipped, not cut.
        name = clean_name(node.get("name") or "", 200)
        external_id = str(node.get("id", ""))
        if not external_id or not name or len(external_id) > 100 or has_control_characters(external_id):
            continue
        kind = ASSET_TYPES.get(str(node.get("type", "")).lower().replace(" ", ""), AssetType.OS)
        wanted[external_id] = {"name": name, "type": kind}
    existing = {a.external_id: a for a in Asset.objects.filter(appliance=appliance)}
    changed = 0
    for external_id, fields in wanted.items():
        asset = existing.get(external_id)
        if asset is None:
            Asset(appliance=appliance, external_id=external_id, **fields).save()
        elif any(getattr(asset, k) != v for k, v in fields.items()):
            Asset.objects.filter(pk=asset.pk).update(**fields)
        else:
            continue
        changed += 1
    # R15.1: an asset is in its appliance's organization, even one created from a read before a move.
    return changed + follow_appliance(appliance)


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
            changed += 1
        current = [(s.name, s.rrule, s.dtstart) for s in asset.backup_schedules.all()]
        if asset.pk in held:
            continue
        if sorted(current) != sorted(wanted[external_id]):  # R5.2: a job order left or removed goes
            BackupSchedule.objects.filter(asset=asset).delete()
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


def backups(client, appliance, since, now) -> int:
    assets_by_id = dict(Asset.objects.filter(appliance=appliance).values_list("external_id", "pk"))
    sizes = {}
    for instance in client.catalog(since):
        for row in instance.get("backups") or []:
            if isinstance(row, dict) and row.get("id") is not None:
                sizes[str(row["id"])] = _int(row.get("size_mb")) * MB
    wanted = {}
    for row in client.job_history(since):
        asset_id = assets_by_id.get(str(row.get("instance_id")))
        started = _epoch(row.get("sort_start_time"))
        status = STATUSES.get(str(row.get("status", "")).lower())
        if asset_id is None or started is None or status is None or row.get("backup_id") is None:
            continue
        external_id = str(row["backup_id"])
        mode = str(row.get("mode", "full")).lower()
        wanted[(asset_id, external_id)] = {
            "type": mode if mode in Backup.Type.values else Backup.Type.FULL,
            "status": status, "started_at": started,
            "finished_at": None if status == "running" else started + _duration(row.get("duration")),
            "size_bytes": sizes.get(external_id, 0), "error": str(row.get("message") or "")[:2000] if status == "failed" else "",
        }
    return _upsert(Backup, appliance, wanted, "asset_id")


def hot_copies(client, appliance, since, now) -> int:
    return _copies(appliance, client.hot_copies(since), BackupCopy.Target.HOT)


def cold_copies(client, appliance, since, now) -> int:
    return _copies(appliance, client.cold_copies(since), BackupCopy.Target.COLD)


def certification(client, appliance, since, now) -> int:
    changed = 0
    assets_by_id = dict(Asset.objects.filter(appliance=appliance).values_list("external_id", "pk"))
    for row in client.certifications():
        asset_id = assets_by_id.get(str(row.get("instance_id")))
        last_run = _epoch(row.get("last_run"))
        if asset_id is None or last_run is None or STATUSES.get(str(row.get("status", "")).lower()) != "success":
            continue
        backup = Backup.objects.filter(asset_id=asset_id, started_at__lte=last_run).order_by("-started_at").first()
        if backup is not None and backup.certified_at != last_run:
            Backup.objects.filter(pk=backup.pk).update(certified_at=last_run)
            changed += 1
    return changed


def jobs(client, appliance, since, now) -> int:
    assets_by_name = dict(Asset.objects.filter(appliance=appliance).values_list("name", "pk"))
    wanted = {}
    for row in client.active_jobs():
        if row.get("id") is None:
            continue
        state = JOB_STATES.get(str(row.get("status", "")).lower(), Job.State.RUNNING)
        wanted[str(row["id"])] = {
            "state": state, "progress_percent": max(0, min(100, _int(row.get("percent_complete")))),
            "asset_id": assets_by_name.get(row.get("instance_name")),
            "details": {"name": row.get("name", ""), "status": row.get("status", ""),
                        "instance_name": row.get("instance_name", "")},
        }
    existing = {j.external_id: j for j in Job.objects.filter(appliance=appliance)}
    changed = 0
    for external_id, fields in wanted.items():
        job = existing.get(external_id)
        if job is None:
            Job.objects.create(account_id=appliance.account_id, appliance=appliance, external_id=external_id,
                               started_at=now, **fields)
        elif job.state == Job.State.CANCELLING or all(getattr(job, k) == v for k, v in fields.items()):
            continue  # a cancel we asked for stays "cancelling" until the appliance drops the job
        else:
            Job.objects.filter(pk=job.pk).update(**fields)
        changed += 1
    # A job the appliance no longer lists as active is over.
    gone = [j for k, j in existing.items() if k not in wanted and j.state in (Job.State.RUNNING, Job.State.QUEUED, Job.State.CANCELLING)]
    for job in gone:
        state = Job.State.CANCELLED if job.state == Job.State.CANCELLING else Job.State.FINISHED
        Job.objects.filter(pk=job.pk).update(state=state, finished_at=now)
    return changed + len(gone)


def alerts(client, appliance, since, now) -> int:
    wanted = {}
    for row in client.alerts():
        if row.get("id") is None or not row.get("message"):
            continue
        wanted[str(row["id"])] = {
            "category": str(row.get("category") or "appliance")[:32],
            "severity": str(row.get("severity") or "warning")[:16],
            "message": str(row["message"])[:2000], "reported_at": _stamp(row.get("created")), "active": True,
        }
    existing = {a.external_id: a for a in ApplianceAlert.objects.filter(appliance=appliance)}
    changed = 0
    for external_id, fields in wanted.items():
        record = existing.get(external_id)
        if record is None:
            ApplianceAlert.objects.create(account_id=appliance.account_id, appliance=appliance,
                                          external_id=external_id, last_seen_at=now, **fields)
        elif any(getattr(record, k) != v for k, v in fields.items()):
            ApplianceAlert.objects.filter(pk=record.pk).update(last_seen_at=now, **fields)
        else:
            continue
        changed += 1
    gone = [r.pk for k, r in existing.items() if k not in wanted and r.active]
    ApplianceAlert.objects.filter(pk__in=gone).update(active=False)
    return changed + len(gone)


STEPS = {fn.__name__: fn for fn in (
    system, storage, assets, schedules, backups, hot_copies, cold_copies, certification, jobs, alerts)}


# --- helpers ---------------------------------------------------------------------------
def _copies(appliance, rows, target) -> int:
    backups_by_key = {
        (asset_id, external_id): (pk, asset_id)
        for pk, asset_id, external_id in Backup.objects.filter(asset__appliance=appliance)
        .values_list("pk", "asset_id", "external_id")
    }
    assets_by_id = dict(Asset.objects.filter(appliance=appliance).values_list("external_id", "pk"))
    wanted = {}
    for row in rows:
        asset_id = assets_by_id.get(str(row.get("instance_id")))
        backup = backups_by_key.get((asset_id, str(row.get("backup_id"))))
        started = _epoch(row.get("start_time"))
        status = STATUSES.get(str(row.get("status", "")).lower())
        if backup is None or started is None or status is None:
            continue  # a copy of a backup we do not know yet: the next sync brings it
        external_id = f"{target}-{row['backup_id']}-{str(row.get('target') or '')[:40]}"
        wanted[(asset_id, external_id)] = {
            "backup_id": backup[0], "target": target, "status": status, "started_at": started,
            "finished_at": None if status == "running" else _epoch(row.get("end_time")),
            "error": f"Copy to {row.get('target')} failed" if status == "failed" else "",
        }
    return _upsert(BackupCopy, appliance, wanted, "asset_id")


def _upsert(model, appliance, wanted, asset_field) -> int:
    """Create or update rows keyed (asset, external id); answers how many changed."""
    asset_ids = {key[0] for key in wanted}
    existing = {
        (getattr(row, asset_field), row.external_id): row
        for row in model.objects.filter(asset_id__in=asset_ids, external_id__in=[k[1] for k in wanted])
    }
    new, changed = [], []
    for (asset_id, external_id), fields in wanted.items():
        row = existing.get((asset_id, external_id))
        if row is None:
            new.append(model(account_id=appliance.account_id, asset_id=asset_id, external_id=external_id, **fields))
        elif any(getattr(row, k) != v for k, v in fields.items()):
            for key, value in fields.items():
                setattr(row, key, value)
            changed.append(row)
    model.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
    if changed:
        model.objects.bulk_update(changed, list(next(iter(wanted.values())).keys()), batch_size=1000)
    return len(new) + len(changed)


def _leaves(nodes):
    for node in nodes:
        children = [c for c in node.get("children") or [] if isinstance(c, dict)]
        if children:
            yield from _leaves(children)
        else:
            yield node


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



def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _epoch(value):
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _duration(text) -> timedelta:
    try:
        hours, minutes, seconds = (int(p) for p in str(text).split(":"))
        return timedelta(hours=hours, minutes=minutes, seconds=seconds)
    except ValueError:
        return timedelta(0)


def _stamp(text):
    try:
        return datetime.strptime(str(text), "%m/%d/%Y %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None
