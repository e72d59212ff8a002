"""Bulk ingestion of backups and copies (POST /api/v1/ingest/backups/).

Idempotent on the source's own ids: posting the same records twice changes
nothing the second time. All or nothing: one bad item answers 400 naming the
item and the field, and nothing is written.
"""

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from inventory import due
from inventory.models import Appliance, Asset, Backup, BackupCopy
from tenancy.validation import BIGINT_MAX, CONTROL_MESSAGE, has_control_characters, parse_time

MAX_ITEMS = 5000
KINDS = ("backup", "hot_copy", "cold_copy")
_FIELDS = ("type", "status", "started_at", "finished_at", "size_bytes", "error")
ID_LENGTH = 100  # the external_id columns: a longer id is refused, never cut (two ids would merge)
ERROR_LENGTH = 5000


@dataclass
class IngestResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: dict = field(default_factory=dict)

    def as_dict(self):
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


def _source_id(value, err, name, message) -> str | None:
    if value in (None, "") or isinstance(value, bool) or not isinstance(value, str | int):
        err(name, message)
        return None
    value = str(value)
    if len(value) > ID_LENGTH:
        err(name, f"At most {ID_LENGTH} characters.")
    elif has_control_characters(value):
        err(name, CONTROL_MESSAGE)
    return value


def _parse(item, index, errors, now):
    def err(name, message):
        errors.setdefault(f"{index}.{name}", []).append(message)

    if not isinstance(item, dict):
        err("item", "Each item must be an object.")
        return None
    clean = {}
    for name in ("appliance", "asset", "external_id"):
        clean[name] = _source_id(item.get(name), err, name, "This field is required (the source's own id, a string).")
    kind = item.get("kind", "backup")
    if kind not in KINDS:
        err("kind", f"Must be one of {', '.join(KINDS)}.")
    clean["kind"] = kind
    if kind != "backup":
        clean["of_backup"] = _source_id(item.get("of_backup"), err, "of_backup",
                                        "A copy must name the external id of its backup.")
    backup_type = item.get("type", "full")
    if backup_type not in Backup.Type.values:
        err("type", f"Must be one of {', '.join(Backup.Type.values)}.")
    clean["type"] = backup_type
    if item.get("status") not in Backup.Status.values:
        err("status", f"Must be one of {', '.join(Backup.Status.values)}.")
    clean["status"] = item.get("status")
    for name, required in (("started_at", True), ("finished_at", False)):
        raw = item.get(name)
        clean[name] = None
        if raw in (None, ""):
            if required:
                err(name, "This field is required (ISO 8601 with offset).")
            continue
        clean[name], problem = parse_time(raw, now)
        if problem:
            err(name, problem)
    size = item.get("size_bytes", 0)
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= BIGINT_MAX:
        err("size_bytes", f"Must be a whole number of bytes, from 0 to {BIGINT_MAX}.")
    clean["size_bytes"] = size
    error_text = item.get("error", "") or ""
    if not isinstance(error_text, str):
        err("error", "Must be a string.")
    elif len(error_text) > ERROR_LENGTH:
        err("error", f"At most {ERROR_LENGTH} characters.")
    clean["error"] = str(error_text)
    if clean.get("finished_at") and clean.get("started_at") and clean["finished_at"] < clean["started_at"]:
        err("finished_at", "Must not be before started_at.")
    return clean


def _bad_indexes(errors) -> set[int]:
    return {int(key.split(".", 1)[0]) for key in errors if key[0].isdigit()}


def ingest_backups(account, items, partial=False) -> IngestResult:
    """All or nothing by default; with `partial`, good items land and bad ones are reported.

    Either way an item is applied whole or not at all.
    """
    result = IngestResult()
    if not isinstance(items, list):
        result.errors["items"] = ["Send a list of backups and copies."]
        return result
    if len(items) > MAX_ITEMS:
        result.errors["items"] = [f"At most {MAX_ITEMS} items per request."]
        return result
    now = timezone.now()
    parsed = [_parse(item, i, result.errors, now) for i, item in enumerate(items)]
    for i, p in enumerate(parsed):
        if p is not None:
            p["index"] = i
    if result.errors and not partial:
        return result
    parsed = [p for p in parsed if p is not None and p["index"] not in _bad_indexes(result.errors)]
    _resolve_assets(account, parsed, result)
    if result.errors and not partial:
        return result
    parsed = [p for p in parsed if p["index"] not in _bad_indexes(result.errors)]

    with transaction.atomic():
        backups = _upsert_backups(account, [p for p in parsed if p["kind"] == "backup"], result)
        copies = [p for p in parsed if p["kind"] != "backup"]
        if copies:
            _upsert_copies(account, copies, backups, result, partial)
        if result.errors and not partial:
            transaction.set_rollback(True)
    return result


def _resolve_assets(account, parsed, result):
    """Attach each item's asset; an unknown appliance or asset is an error on that item."""
    appliances = dict(
        Appliance.objects.filter(account=account, external_id__in={p["appliance"] for p in parsed})
        .values_list("external_id", "pk")
    )
    assets = {
        (a.appliance_id, a.external_id): a
        for a in Asset.objects.filter(account=account, appliance_id__in=appliances.values(),
                                      external_id__in={p["asset"] for p in parsed})
    }
    for p in parsed:
        appliance_id = appliances.get(p["appliance"])
        if appliance_id is None:
            result.errors[f"{p['index']}.appliance"] = [f"No appliance with external id {p['appliance']!r}."]
            continue
        p["asset_obj"] = assets.get((appliance_id, p["asset"]))
        if p["asset_obj"] is None:
            result.errors[f"{p['index']}.asset"] = [f"No asset with external id {p['asset']!r} on that appliance."]


def _upsert_backups(account, rows, result):
    asset_ids = {p["asset_obj"].pk for p in rows}
    existing = {
        (b.asset_id, b.external_id): b
        for b in Backup.objects.filter(asset_id__in=asset_ids, external_id__in={p["external_id"] for p in rows})
    }
    new, changed = {}, []
    for p in rows:
        key = (p["asset_obj"].pk, p["external_id"])
        values = {name: p[name] for name in _FIELDS}
        current = existing.get(key) or new.get(key)
        if current is None:
            new[key] = Backup(account=account, asset=p["asset_obj"], external_id=p["external_id"], **values)
        elif any(getattr(current, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(current, k, v)
            if current.pk:
                changed.append(current)
        elif current.pk:
            result.unchanged += 1
    Backup.objects.bulk_create(new.values(), batch_size=1000)
    Backup.objects.bulk_update(changed, list(_FIELDS), batch_size=1000)
    due.assets_changed([b.asset_id for b in [*new.values(), *changed]])  # evaluation by due time
    result.created += len(new)
    result.updated += len(changed)
    existing.update(new)
    return existing


def _upsert_copies(account, rows, backups, result, partial):
    asset_ids = {p["asset_obj"].pk for p in rows}
    wanted_backups = {(p["asset_obj"].pk, p["of_backup"]) for p in rows} - backups.keys()
    if wanted_backups:
        for b in Backup.objects.filter(asset_id__in=asset_ids, external_id__in={k[1] for k in wanted_backups}):
            backups[(b.asset_id, b.external_id)] = b
    existing = {
        (c.asset_id, c.external_id): c
        for c in BackupCopy.objects.filter(asset_id__in=asset_ids, external_id__in={p["external_id"] for p in rows})
    }
    new, changed = {}, []
    copy_fields = ("status", "started_at", "finished_at", "error", "target", "backup")
    for p in rows:
        backup = backups.get((p["asset_obj"].pk, p["of_backup"]))
        if backup is None:
            result.errors[f"{p['index']}.of_backup"] = [f"No backup {p['of_backup']!r} of this asset."]
            continue
        key = (p["asset_obj"].pk, p["external_id"])
        values = {
            "status": p["status"], "started_at": p["started_at"], "finished_at": p["finished_at"],
            "error": p["error"], "target": "hot" if p["kind"] == "hot_copy" else "cold", "backup": backup,
        }
        current = existing.get(key) or new.get(key)
        if current is None:
            new[key] = BackupCopy(account=account, asset=p["asset_obj"], external_id=p["external_id"], **values)
        elif any(getattr(current, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(current, k, v)
            if current.pk:
                changed.append(current)
        elif current.pk:
            result.unchanged += 1
    if result.errors and not partial:
        return
    BackupCopy.objects.bulk_create(new.values(), batch_size=1000)
    BackupCopy.objects.bulk_update(changed, list(copy_fields), batch_size=1000)
    due.assets_changed([c.asset_id for c in [*new.values(), *changed]])  # evaluation by due time
    result.created += len(new)
    result.updated += len(changed)
