"""Steps that read backups and their copies (hot, cold) and certifications, upserted by the appliance's ids."""

from integrations.unitrends.steps.values import MB, STATUSES, from_epoch, parse_duration, to_int
from inventory.models import Asset, Backup, BackupCopy


def backups(client, appliance, since, now) -> int:
    assets_by_id = dict(Asset.objects.filter(appliance=appliance).values_list("external_id", "pk"))
    sizes = {}
    for instance in client.catalog(since):
        for row in instance.get("backups") or []:
            if isinstance(row, dict) and row.get("id") is not None:
                sizes[str(row["id"])] = to_int(row.get("size_mb")) * MB
    wanted = {}
    for row in client.job_history(since):
        asset_id = assets_by_id.get(str(row.get("instance_id")))
        started = from_epoch(row.get("sort_start_time"))
        status = STATUSES.get(str(row.get("status", "")).lower())
        if asset_id is None or started is None or status is None or row.get("backup_id") is None:
            continue
        external_id = str(row["backup_id"])
        mode = str(row.get("mode", "full")).lower()
        wanted[(asset_id, external_id)] = {
            "type": mode if mode in Backup.Type.values else Backup.Type.FULL,
            "status": status, "started_at": started,
            "finished_at": None if status == "running" else started + parse_duration(row.get("duration")),
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
        last_run = from_epoch(row.get("last_run"))
        if asset_id is None or last_run is None or STATUSES.get(str(row.get("status", "")).lower()) != "success":
            continue
        backup = Backup.objects.filter(asset_id=asset_id, started_at__lte=last_run).order_by("-started_at").first()
        if backup is not None and backup.certified_at != last_run:
            Backup.objects.filter(pk=backup.pk).update(certified_at=last_run)
            changed += 1
    return changed


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
        started = from_epoch(row.get("start_time"))
        status = STATUSES.get(str(row.get("status", "")).lower())
        if backup is None or started is None or status is None:
            continue  # a copy of a backup we do not know yet: the next sync brings it
        external_id = f"{target}-{row['backup_id']}-{str(row.get('target') or '')[:40]}"
        wanted[(asset_id, external_id)] = {
            "backup_id": backup[0], "target": target, "status": status, "started_at": started,
            "finished_at": None if status == "running" else from_epoch(row.get("end_time")),
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
