"""When each subject's alerts can next change: the next moment of assets (R5, R6), appliances
(R2, R7.2, R10), SaaS sources (R8) and Azure assets (R9), one narrow row each in
inventory.NextCheck (`kind`, `subject_id`, `account`, `next_check_at`).

An evaluation by due time reads only the subjects whose moment has come (an index range
per account and subject type) and, after evaluating them, writes each one's next moment.
Whatever changes a subject's facts marks it changed here, so the next cycle takes it
whatever its moment: its data (a backup, a copy, a schedule, a daily status, an Azure
backup, the appliance's own alerts, storage or version, a rename, a move, a mapping), its
appliance (time zone, name, status, contact after silence), its threshold or its account's
alert settings. A mark is a moment a century back, read at the time it is written, so an
evaluation that read a subject before the mark can tell (compare-and-swap in
`write_next_checks`) and leaves it due. When unsure, mark: a needless check is cheap.

The moments live apart from the subjects' wide tables (an asset has seven indexes, each
touched by any update of an indexed column): a full evaluation after a threshold change
writes a million of them. What an evaluation reads of a row is its id and a token of the
moment it read (microseconds since the epoch: an integer, cheap to read and to send back
for the compare-and-swap); new moments go back as one array per batch.
"""

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.db.models.signals import post_delete, post_save, pre_save
from django.utils import timezone

from tenancy.arrays import int_array, one_of, postgresql

CHANGED_OFFSET = timedelta(days=36500)
TABLE = "inventory_nextcheck"


def changed_moment():
    """The value of a mark: due at once, and distinct from any other mark in practice."""
    return timezone.now() - CHANGED_OFFSET


def subject_models() -> dict:
    """{subject type: its model}: the four kinds of row that have a next moment."""
    from inventory.models import Appliance, Asset, AzureAsset, SaasSource

    return {"asset": Asset, "appliance": Appliance, "saas": SaasSource, "azure": AzureAsset}


def _checks(subject, **lookup):
    from inventory.models import NextCheck

    return NextCheck.objects.filter(kind=subject, **lookup)


def next_check_of(row):
    """The next moment of one asset, appliance, SaaS source or Azure asset (None: it has none);
    one query, for pages and tests, not for loops."""
    subject = next(s for s, model in subject_models().items() if isinstance(row, model))
    return _checks(subject, subject_id=row.pk).values_list("next_check_at", flat=True).first()


def mark_assets(queryset) -> int:
    """Make these rows (a queryset of any subject model) due at the next cycle."""
    subject = next(s for s, model in subject_models().items() if model is queryset.model)
    return _checks(subject, subject_id__in=queryset.values("pk")).update(next_check_at=changed_moment())


def _mark(subject, **lookup) -> int:
    if set(lookup) == {"pk__in"}:
        return _checks(subject, subject_id__in=lookup["pk__in"]).update(next_check_at=changed_moment())
    return mark_assets(subject_models()[subject].objects.filter(**lookup))


def _ids(values) -> set:
    return {pk for pk in values if pk is not None}


def assets_changed(asset_ids) -> int:
    ids = _ids(asset_ids)
    return _mark("asset", pk__in=ids) if ids else 0


def appliances_changed(appliance_ids) -> int:
    """The appliances' facts changed in a way their assets' alarms show (name, time zone, status):
    the assets and the appliances are due."""
    ids = _ids(appliance_ids)
    return _mark("asset", appliance_id__in=ids) + _mark("appliance", pk__in=ids) if ids else 0


def appliance_facts_changed(appliance_ids) -> int:
    """Only the appliances' own alerts can change (their version, storage, reported alerts)."""
    ids = _ids(appliance_ids)
    return _mark("appliance", pk__in=ids) if ids else 0


def sources_changed(source_ids) -> int:
    """SaaS sources whose daily statuses or mapping changed (R8)."""
    ids = _ids(source_ids)
    return _mark("saas", pk__in=ids) if ids else 0


def azure_assets_changed(azure_asset_ids) -> int:
    ids = _ids(azure_asset_ids)
    return _mark("azure", pk__in=ids) if ids else 0


def organizations_changed(organization_ids) -> int:
    """A rename or a threshold assignment: every subject of these organizations is due."""
    ids = _ids(organization_ids)
    return sum(_mark(subject, organization_id__in=ids) for subject in subject_models()) if ids else 0


def account_changed(account_id) -> int:
    """Everything of the account is due: a threshold or an alert setting changed (R4.6, R2.1)."""
    from inventory.models import NextCheck

    return NextCheck.objects.filter(account_id=account_id).update(next_check_at=changed_moment())


def leave_due(asset_ids, subject="asset") -> int:
    """Make these rows due, writing only those not due already (a replay at another time)."""
    marked_before = timezone.now() - CHANGED_OFFSET / 2
    where, params = one_of("subject_id", asset_ids)
    waiting = f"kind = %s AND next_check_at >= %s AND {where}"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {TABLE} WHERE {waiting})",  # noqa: S608
                       [subject, _moment(marked_before), *params])
        if not cursor.fetchone()[0]:
            return 0  # all due already: a replay with nothing changed writes nothing, not even an empty UPDATE
        cursor.execute(f"UPDATE {TABLE} SET next_check_at = %s WHERE {waiting}",  # noqa: S608
                       [_moment(changed_moment()), subject, _moment(marked_before), *params])
        return cursor.rowcount


def _moment(value):
    return connection.ops.adapt_datetimefield_value(value)


def _token() -> str:
    """A row's moment as read, for the compare-and-swap: exact microseconds in PostgreSQL,
    the stored text in SQLite (as stored: not parsed and formatted again)."""
    return "(extract(epoch FROM next_check_at) * 1000000)::bigint" if postgresql() else "CAST(next_check_at AS TEXT)"


def _read(where, params) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT subject_id, {_token()} FROM {TABLE} WHERE {where}", params)  # noqa: S608
        return dict(cursor)


def due_rows(subject, account, now) -> dict:
    """{id: the token of its moment} of the rows of this subject type due at `now` (one index range)."""
    return _read("account_id = %s AND kind = %s AND next_check_at <= %s", [account.pk, subject, _moment(now)])


def all_rows(subject, account, organization_ids=None, ids=None) -> dict:
    """{id: the token of its moment} of every row of this subject type of the account (or of
    these organizations, or these ids)."""
    where, params = "account_id = %s AND kind = %s", [account.pk, subject]
    if organization_ids is not None:
        table = subject_models()[subject]._meta.db_table
        among, more = one_of("organization_id", organization_ids)
        where, params = f"{where} AND subject_id IN (SELECT id FROM {table} WHERE {among})", [*params, *more]
    if ids is not None:
        among, more = one_of("subject_id", ids)
        where, params = f"{where} AND {among}", [*params, *more]
    return _read(where, params)


def all_assets(account, organization_ids=None, asset_ids=None) -> dict:
    return all_rows("asset", account, organization_ids, asset_ids)


def write_next_checks(read: dict, moments: dict, batch: int = 20000, subject: str = "asset") -> int:
    """Write each row's next moment, unless it was marked since `read` was taken (its token
    differs) or it is unchanged (nothing written)."""
    if not postgresql():
        return _write_one_by_one(read, moments, subject)
    ids = sorted(read)
    written = 0
    with connection.cursor() as cursor:
        for start in range(0, len(ids), batch):
            chunk = ids[start:start + batch]
            among, params = _rows_of(chunk)
            cursor.execute(
                f"UPDATE {TABLE} AS n SET next_check_at = v.next "  # noqa: S608
                "FROM unnest(%s::bigint[], %s::timestamptz[], %s::bigint[]) AS v(id, next, old) "
                f"WHERE n.kind = %s AND {among} AND n.subject_id = v.id "
                "AND (extract(epoch FROM n.next_check_at) * 1000000)::bigint = v.old "
                "AND n.next_check_at IS DISTINCT FROM v.next",
                [int_array(chunk), _moments_array(moments[pk] for pk in chunk), int_array(read[pk] for pk in chunk),
                 subject, *params],
            )
            written += cursor.rowcount
    return written


def dense(ids) -> bool:
    """Whether these ascending ids lie close enough together that one id range reads them best
    (a full evaluation's batch), rather than one index probe each (a due cycle's scattered few);
    the reader skips the few rows of the range that are not among them."""
    return ids[-1] - ids[0] < 4 * len(ids)


def _rows_of(ids) -> tuple[str, list]:
    """The rows of these (ascending) ids, found through the primary key (`dense`). Without
    either form, the planner hashes the whole table for every batch."""
    if dense(ids):
        return "n.subject_id BETWEEN %s AND %s", [ids[0], ids[-1]]
    return "n.subject_id = ANY(%s::bigint[])", [int_array(ids)]


def _moments_array(moments) -> str:
    """A PostgreSQL array literal of aware datetimes (`str` is their ISO form, made in C)."""
    return '{"' + '","'.join(map(str, moments)) + '"}'


def _write_one_by_one(read, moments, subject) -> int:
    written = 0
    with connection.cursor() as cursor:
        for pk, old in read.items():
            cursor.execute(
                f"UPDATE {TABLE} SET next_check_at = %s WHERE kind = %s AND subject_id = %s AND next_check_at = %s",  # noqa: S608
                [_moment(moments[pk]), subject, pk, old],
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


def _appliance_saved(sender, instance, created=False, raw=False, **kwargs):
    """Any save of an appliance (its version, storage, contact) may change its own alerts."""
    if not created and not raw:
        appliance_facts_changed([instance.pk])


def _appliance_deleted(sender, instance, **kwargs):
    """The account's one upgrade alert lists every appliance (R2.2): another one re-reads it."""
    _mark("appliance", account_id=instance.account_id)


def _of_appliance_saved(sender, instance, **kwargs):
    appliance_facts_changed([instance.appliance_id])


def _source_saved(sender, instance, created=False, **kwargs):
    if not created:
        sources_changed([instance.pk])


def _of_source_saved(sender, instance, **kwargs):
    sources_changed([instance.source_id])


def _azure_asset_saved(sender, instance, created=False, **kwargs):
    if not created:
        azure_assets_changed([instance.pk])


def contact_refreshed(queryset_of_appliances) -> int:
    """A bulk contact update (a poll's heartbeat): mark those that were silent, and their assets."""
    silent_since = timezone.now() - timedelta(minutes=settings.APPLIANCE_OFFLINE_MINUTES)
    silent = queryset_of_appliances.filter(
        Q(last_contact_at__isnull=True) | Q(last_contact_at__lt=silent_since) | ~Q(status="online")
    ).values_list("pk", flat=True)
    return appliances_changed(list(silent))


def connect() -> None:
    from inventory.models import (
        Appliance,
        ApplianceAlert,
        Asset,
        AzureAsset,
        Backup,
        BackupCopy,
        BackupSchedule,
        SaasDailyStatus,
        SaasSource,
    )

    post_save.connect(_asset_saved, sender=Asset, dispatch_uid="due-asset-saved")
    for model in (Backup, BackupCopy, BackupSchedule):
        post_save.connect(_of_asset_saved, sender=model, dispatch_uid=f"due-{model.__name__}-saved")
        post_delete.connect(_of_asset_saved, sender=model, dispatch_uid=f"due-{model.__name__}-deleted")
    pre_save.connect(_appliance_saving, sender=Appliance, dispatch_uid="due-appliance-saving")
    post_save.connect(_appliance_saved, sender=Appliance, dispatch_uid="due-appliance-saved")
    post_delete.connect(_appliance_deleted, sender=Appliance, dispatch_uid="due-appliance-deleted")
    post_save.connect(_of_appliance_saved, sender=ApplianceAlert, dispatch_uid="due-appliance-alert-saved")
    post_save.connect(_source_saved, sender=SaasSource, dispatch_uid="due-saas-source-saved")
    post_save.connect(_of_source_saved, sender=SaasDailyStatus, dispatch_uid="due-saas-status-saved")
    post_save.connect(_azure_asset_saved, sender=AzureAsset, dispatch_uid="due-azure-asset-saved")
