"""When an asset's conditional alarms (R5, R6) can next change: `Asset.next_check_at`.

An evaluation by due time reads only the assets whose moment has come (an index range
per account) and, after evaluating them, writes each one's next moment. Whatever
changes an asset's facts marks it changed here, so the next cycle takes it whatever
its moment: its data (a backup, a copy, a schedule, a rename, a move), its appliance
(time zone, name, status, contact after silence), its threshold or its account's alert
settings. A mark is a moment a century back, read at the time it is written, so an
evaluation that read an asset before the mark can tell (compare-and-swap in
`write_next_checks`) and leaves it due. When unsure, mark: a needless check is cheap.
"""

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.db.models.signals import post_delete, post_save, pre_save
from django.utils import timezone

CHANGED_OFFSET = timedelta(days=36500)


def changed_moment():
    """The value of a mark: due at once, and distinct from any other mark in practice."""
    return timezone.now() - CHANGED_OFFSET


def mark_assets(queryset) -> int:
    """Make these assets (a queryset of Asset) due at the next cycle."""
    return queryset.update(next_check_at=changed_moment())


def assets_changed(asset_ids) -> int:
    from inventory.models import Asset

    ids = {pk for pk in asset_ids if pk is not None}
    return mark_assets(Asset.objects.filter(pk__in=ids)) if ids else 0


def appliances_changed(appliance_ids) -> int:
    from inventory.models import Asset

    ids = {pk for pk in appliance_ids if pk is not None}
    return mark_assets(Asset.objects.filter(appliance_id__in=ids)) if ids else 0


def organizations_changed(organization_ids) -> int:
    from inventory.models import Asset

    ids = {pk for pk in organization_ids if pk is not None}
    return mark_assets(Asset.objects.filter(organization_id__in=ids)) if ids else 0


def leave_due(asset_ids) -> int:
    """Make these assets due, writing only those not due already (a replay at another time)."""
    from inventory.models import Asset

    marked_before = timezone.now() - CHANGED_OFFSET / 2
    waiting = Asset.objects.filter(pk__in=list(asset_ids)).exclude(next_check_at__lt=marked_before)
    ids = list(waiting.values_list("pk", flat=True))
    return mark_assets(Asset.objects.filter(pk__in=ids)) if ids else 0


def account_changed(account_id) -> int:
    """Everything of the account is due: a threshold or an alert setting changed (R4.6, R2.1)."""
    from inventory.models import Asset

    return mark_assets(Asset.objects.filter(account_id=account_id))


def due_assets(account, now) -> dict:
    """{asset id: its next_check_at} of the assets due at `now` (one index range)."""
    from inventory.models import Asset

    return dict(Asset.objects.filter(account=account, next_check_at__lte=now).order_by().values_list("id", "next_check_at"))


def all_assets(account, organization_ids=None, asset_ids=None) -> dict:
    """{asset id: its next_check_at} of every asset of the account (or of these organizations, or these assets)."""
    from inventory.models import Asset

    assets = Asset.objects.filter(account=account)
    if organization_ids is not None:
        assets = assets.filter(organization_id__in=organization_ids)
    if asset_ids is not None:
        assets = assets.filter(pk__in=asset_ids)
    return dict(assets.order_by().values_list("id", "next_check_at").iterator(chunk_size=20000))


def write_next_checks(read: dict, moments: dict, batch: int = 20000) -> int:
    """Write each asset's next moment, unless it was marked since `read` was taken."""
    if connection.vendor != "postgresql":
        from inventory.models import Asset

        for pk, old in read.items():
            Asset.objects.filter(pk=pk, next_check_at=old).update(next_check_at=moments[pk])
        return len(read)
    ids = list(read)
    written = 0
    with connection.cursor() as cursor:
        for start in range(0, len(ids), batch):
            chunk = ids[start:start + batch]
            cursor.execute(
                "UPDATE inventory_asset AS a SET next_check_at = v.next "
                "FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[]) AS v(id, next, old) "
                "WHERE a.id = ANY(%s::bigint[]) AND a.id = v.id AND a.next_check_at = v.old "
                "AND a.next_check_at IS DISTINCT FROM v.next",  # ANY: an index scan, not a hash of the table
                [chunk, [moments[pk] for pk in chunk], [read[pk] for pk in chunk], chunk],
            )
            written += cursor.rowcount
    return written


# Receivers: every save or delete through the ORM marks what it touches. Bulk writes
# (bulk_create, queryset.update) send no signal: their callers call the functions above.

_APPLIANCE_FACTS = ("name", "timezone", "organization_id", "status", "retired_at", "account_id")


def _asset_saved(sender, instance, created=False, **kwargs):
    if not created:  # a new asset is due already (its default)
        assets_changed([instance.pk])


def _of_asset_saved(sender, instance, **kwargs):
    assets_changed([instance.asset_id])


def _appliance_saving(sender, instance, raw=False, **kwargs):
    """Mark the appliance's assets when what their alarms show of it changed: name, time
    zone, organization, status, retirement, or a contact after it had been silent (R7.1)."""
    if raw or instance.pk is None:
        return
    old = sender.objects.filter(pk=instance.pk).values(*_APPLIANCE_FACTS, "last_contact_at").first()
    if old is None:
        return
    silent_since = timezone.now() - timedelta(minutes=settings.APPLIANCE_OFFLINE_MINUTES)
    was_silent = old["last_contact_at"] is None or old["last_contact_at"] < silent_since
    moved = any(old[f] != getattr(instance, f) for f in _APPLIANCE_FACTS)
    if moved or (was_silent and instance.last_contact_at != old["last_contact_at"]):
        appliances_changed([instance.pk])


def contact_refreshed(queryset_of_appliances) -> int:
    """A bulk contact update (a poll's heartbeat): mark the assets of those that were silent."""
    silent_since = timezone.now() - timedelta(minutes=settings.APPLIANCE_OFFLINE_MINUTES)
    silent = queryset_of_appliances.filter(
        Q(last_contact_at__isnull=True) | Q(last_contact_at__lt=silent_since) | ~Q(status="online")
    ).values_list("pk", flat=True)
    return appliances_changed(list(silent))


def connect() -> None:
    from inventory.models import Appliance, Asset, Backup, BackupCopy, BackupSchedule

    post_save.connect(_asset_saved, sender=Asset, dispatch_uid="due-asset-saved")
    for model in (Backup, BackupCopy, BackupSchedule):
        post_save.connect(_of_asset_saved, sender=model, dispatch_uid=f"due-{model.__name__}-saved")
        post_delete.connect(_of_asset_saved, sender=model, dispatch_uid=f"due-{model.__name__}-deleted")
    pre_save.connect(_appliance_saving, sender=Appliance, dispatch_uid="due-appliance-saving")
