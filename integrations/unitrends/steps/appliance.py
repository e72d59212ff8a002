"""Steps that read the appliance itself: its version, its storage, its own alerts."""

from datetime import timedelta

from integrations.unitrends.steps.values import MB, parse_stamp, to_int
from inventory import due
from inventory.models import Appliance, ApplianceAlert, ApplianceStorageSample

SAMPLE_EVERY = timedelta(hours=1)  # the storage chart's resolution


def system(client, appliance, since, now) -> int:
    local = client.local_system()
    version = str(local.get("version") or appliance.version)[:40]
    if version == appliance.version:
        return 0
    Appliance.objects.filter(pk=appliance.pk).update(version=version)
    due.appliance_facts_changed([appliance.pk])
    appliance.version = version
    return 1


def storage(client, appliance, since, now) -> int:
    pools = [s for s in client.storage() if s.get("is_online", True) is not False]
    capacity = sum(to_int(s.get("mb_size")) for s in pools) * MB
    free = sum(to_int(s.get("mb_free")) for s in pools) * MB
    eligible = client.purge_eligible_backups()
    values = {"logical_capacity_bytes": capacity, "logical_free_bytes": free, "purge_eligible_backups": eligible}
    _sample(appliance, capacity, free, now)
    if all(getattr(appliance, k) == v for k, v in values.items()):
        return 0
    Appliance.objects.filter(pk=appliance.pk).update(**values)
    due.appliance_facts_changed([appliance.pk])
    return 1


def alerts(client, appliance, since, now) -> int:
    wanted = {}
    for row in client.alerts():
        if row.get("id") is None or not row.get("message"):
            continue
        wanted[str(row["id"])] = {
            "category": str(row.get("category") or "appliance")[:32],
            "severity": str(row.get("severity") or "warning")[:16],
            "message": str(row["message"])[:2000], "reported_at": parse_stamp(row.get("created")), "active": True,
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
    if changed or gone:
        due.appliance_facts_changed([appliance.pk])  # evaluation by due time
    return changed + len(gone)


def _sample(appliance, capacity, free, now):
    """One storage sample an hour per appliance, for the storage chart of its page."""
    if not capacity:
        return
    recent = ApplianceStorageSample.objects.filter(appliance=appliance, at__gt=now - SAMPLE_EVERY)
    if not recent.exists():
        ApplianceStorageSample.objects.create(account_id=appliance.account_id, appliance=appliance, at=now,
                                              capacity_bytes=capacity, free_bytes=free)
