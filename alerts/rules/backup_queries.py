"""The facts a conditional alarm (R5, R6) decides on, read set-wise: per account, never per asset.

One query over the assets with just what a rule decides on (schedule, newest good backup,
newest hot-copied backup), and one more only for the assets that alarm (appliance, last
backup, last hot copy: what the checklist shows, `alerts/rules/alarm_checklist.py`). Every
query stops at `now`, so a replay at a past time sees what was known then (R14.1).
"""

from datetime import UTC, datetime, timedelta
from itertools import groupby

from django.db import connection
from django.db.models import Exists, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from alerts.set_writes import AnyOf  # noqa: F401  (registers the `any_of` lookup used below)
from inventory.models import GOOD_STATUSES, Appliance, Asset, Backup, BackupCopy, BackupSchedule
from tenancy.arrays import int_array
from tenancy.models import Organization

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HOT = BackupCopy.Target.HOT

ASSET_FIELDS = (
    "id", "name", "organization_id", "organization__name", "appliance_id", "appliance__name",
    "appliance__timezone", "appliance__status", "appliance__last_contact_at", "hot_copy",
)


def _good_backups(now, asset="pk"):
    return Backup.objects.filter(asset=OuterRef(asset), status__in=GOOD_STATUSES, finished_at__lte=now)


def _last_good_end(now, asset="pk"):
    return Subquery(_good_backups(now, asset).order_by("-finished_at").values("finished_at")[:1])


def scheduled_assets(account, now, shortest_hours, assets=None):
    """R5, one query: (id, organization, time zone, [{name, rrule, dtstart}, …], newest good
    backup's end) of the assets on one or more schedules (R4.4, R4.7) that may alarm.
    A good backup that ended within the shortest threshold N of the account ended after
    every start S with S + N ≤ now, so those assets (nearly all, on a good day) never
    leave the database. The query reads schedules, one row each, in asset order.
    `assets` (ids) restricts it to those assets (evaluation by due time)."""
    recent = _good_backups(now, "asset_id").filter(finished_at__gte=now - timedelta(hours=shortest_hours))
    rows = (
        _only(BackupSchedule.objects.filter(account=account), "asset_id", assets)
        .filter(~Exists(recent))
        .annotate(last_good_end=_last_good_end(now, "asset_id"))
        .order_by("asset_id", "id")
        .values_list(
            "asset_id", "asset__organization_id", "asset__appliance__timezone", "name", "rrule", "dtstart",
            "last_good_end",
        )
        .iterator(chunk_size=10000)
    )
    for asset_id, group in groupby(rows, key=lambda row: row[0]):
        group = list(group)
        _, organization_id, zone, _, _, _, last_good = group[0]
        schedules = [{"name": row[3], "rrule": row[4], "dtstart": row[5]} for row in group]
        yield asset_id, organization_id, zone, schedules, last_good


def _only(queryset, field, ids):
    return queryset if ids is None else queryset.filter(**{f"{field}__any_of": ids})


def hot_copied_assets(account, now, assets=None):
    """R6, one query: (id, organization) of the hot-copied assets whose newest good backup
    has no good hot copy, i.e. some good backup is newer than every hot-copied one."""
    newest_good = Backup.objects.filter(
        asset=OuterRef(OuterRef("pk")), status__in=GOOD_STATUSES, finished_at__lte=now
    ).order_by("-finished_at").values("pk")[:1]
    copies_of_newest = BackupCopy.objects.filter(
        backup=Subquery(newest_good), target=HOT, status__in=GOOD_STATUSES, finished_at__lte=now
    )
    return (
        _only(Asset.objects.filter(account=account, hot_copy=True), "pk", assets)
        .filter(Exists(_good_backups(now)), ~Exists(copies_of_newest))
        .order_by()
        .values_list("id", "organization_id")
        .iterator(chunk_size=10000)
    )


def _hot_copied_end(now):
    """Newest-first over the good backups, stopping at the first with a good hot copy:
    one or two index probes per asset when copies keep up."""
    copied = BackupCopy.objects.filter(
        backup=OuterRef("pk"), target=HOT, status__in=GOOD_STATUSES, finished_at__lte=now
    )
    return Subquery(_good_backups(now).filter(Exists(copied)).order_by("-finished_at").values("finished_at")[:1])


def oldest_uncopied_ends(asset_ids, now) -> dict[int, datetime]:
    """R6 for the few assets with a good backup newer than their newest hot-copied one
    (one query): the end of the oldest good backup after that one."""
    if not asset_ids:
        return {}
    rows = Asset.objects.filter(pk__any_of=asset_ids).annotate(hot_copied_end=_hot_copied_end(now)).annotate(
        oldest=Subquery(
            _good_backups(now).filter(finished_at__gt=Coalesce(OuterRef("hot_copied_end"), Value(_EPOCH)))
            .order_by("finished_at").values("finished_at")[:1]
        )
    ).values_list("id", "oldest")
    return dict(rows)


def _latest(queryset, field):
    return Subquery(queryset.order_by("-started_at", "-id").values(field)[:1])


def alarm_rows(asset_ids, now, schedules=None) -> dict[int, dict]:
    """One query for the alarming assets only: what the checklist shows (R7.1) —
    appliance, newest good backup, last backup, last hot copy, newest good hot copy — and
    one more for their schedules unless the caller read them already (`schedules`, by asset)."""
    if not asset_ids:
        return {}
    if connection.vendor == "postgresql":
        rows = _alarm_rows_joined(asset_ids, now)
    else:
        rows = _alarm_rows_annotated(asset_ids, now)
    rows = {row["id"]: {**row, "schedules": []} for row in rows}
    if schedules is None:
        schedules = {}
        query = BackupSchedule.objects.filter(asset_id__any_of=asset_ids).order_by("asset_id", "id")
        for asset_id, name, rrule, dtstart in query.values_list("asset_id", "name", "rrule", "dtstart"):
            schedules.setdefault(asset_id, []).append({"name": name, "rrule": rrule, "dtstart": dtstart})
    for asset_id, row in rows.items():
        row["schedules"] = schedules.get(asset_id, [])
    return rows


_ROW_FIELDS = (*ASSET_FIELDS, "last_good_end", "last_backup_status", "last_backup_error", "last_backup_finished",
               "last_copy_status", "last_copy_error", "last_copy_finished", "last_good_copy_end")


def _alarm_rows_joined(asset_ids, now) -> list[dict]:
    """PostgreSQL: the newest backup and the newest hot copy each read once (a LATERAL row
    gives status, error and end together), four index probes per asset instead of eight."""
    tables = {model.__name__: model._meta.db_table for model in (Asset, Backup, BackupCopy, Appliance, Organization)}
    sql = f"""
        SELECT a.id, a.name, a.organization_id, o.name, a.appliance_id, p.name, p.timezone, p.status,
               p.last_contact_at, a.hot_copy, good.finished_at, b.status, b.error, b.finished_at,
               c.status, c.error, c.finished_at, good_copy.finished_at
        FROM {tables["Asset"]} a
        LEFT JOIN {tables["Organization"]} o ON o.id = a.organization_id
        LEFT JOIN {tables["Appliance"]} p ON p.id = a.appliance_id
        LEFT JOIN LATERAL (SELECT finished_at FROM {tables["Backup"]} WHERE asset_id = a.id
            AND status = ANY(%(good)s) AND finished_at <= %(now)s ORDER BY finished_at DESC LIMIT 1) good ON true
        LEFT JOIN LATERAL (SELECT status, error, finished_at FROM {tables["Backup"]} WHERE asset_id = a.id
            AND started_at <= %(now)s ORDER BY started_at DESC, id DESC LIMIT 1) b ON true
        LEFT JOIN LATERAL (SELECT status, error, finished_at FROM {tables["BackupCopy"]} WHERE asset_id = a.id
            AND target = %(hot)s AND started_at <= %(now)s ORDER BY started_at DESC, id DESC LIMIT 1) c ON true
        LEFT JOIN LATERAL (SELECT finished_at FROM {tables["BackupCopy"]} WHERE asset_id = a.id AND target = %(hot)s
            AND status = ANY(%(good)s) AND finished_at <= %(now)s ORDER BY finished_at DESC LIMIT 1) good_copy ON true
        WHERE a.id = ANY(%(ids)s::bigint[])
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, {"good": list(GOOD_STATUSES), "now": now, "hot": HOT, "ids": int_array(asset_ids)})
        return [dict(zip(_ROW_FIELDS, row, strict=True)) for row in cursor.fetchall()]


def _alarm_rows_annotated(asset_ids, now):
    backups = Backup.objects.filter(asset=OuterRef("pk"), started_at__lte=now)
    copies = BackupCopy.objects.filter(asset=OuterRef("pk"), target=HOT, started_at__lte=now)
    good_copies = BackupCopy.objects.filter(
        asset=OuterRef("pk"), target=HOT, status__in=GOOD_STATUSES, finished_at__lte=now
    )
    return Asset.objects.filter(pk__any_of=asset_ids).annotate(
        last_good_end=_last_good_end(now),
        last_backup_status=_latest(backups, "status"),
        last_backup_error=_latest(backups, "error"),
        last_backup_finished=_latest(backups, "finished_at"),
        last_copy_status=_latest(copies, "status"),
        last_copy_error=_latest(copies, "error"),
        last_copy_finished=_latest(copies, "finished_at"),
        last_good_copy_end=Subquery(good_copies.order_by("-finished_at").values("finished_at")[:1]),
    ).values(*_ROW_FIELDS)
