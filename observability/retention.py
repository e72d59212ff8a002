"""Retention: rows older than their configured age are deleted once a day, so tables stop growing.

What goes, each after its own age (settings `RETENTION_*_DAYS`, 0 keeps forever):
backups with their copies, the appliances' finished jobs, SaaS daily statuses, closed alerts
with their whole history (events, deliveries, attempts), delivery attempts, the evaluation log,
finished background jobs, the appliances' storage samples, the compliance history (R18.1: never
less than 366 days).

What never goes, whatever its age, because a rule or a delivery still reads it:
- per asset, the newest backup and the newest good backup (R5, the checklist of R7.1), the
  backups holding its newest hot copy and newest good hot copy, the newest good backup with a
  good hot copy and the oldest good backup after it (R6: "not copied since"): so an alarm's
  answer and its details are the same after pruning as before;
- per SaaS source, its newest daily status;
- an open alert's events, and every alert with a delivery still pending (a ticket must still
  close with what its raised delivery stored); a pending delivery's attempts.

Each of these is written as "a newer row exists" (a witness): the witness is itself one of the
rows that never go, so deleting in batches, in any order, twice, keeps the same rows.

Deletes go in batches of `RETENTION_BATCH_SIZE` rows, each its own short transaction
(`DELETE … WHERE id IN (…)`), so a run holds no long lock. Backups are walked per asset along
the index `(asset, started_at)`, so a run reads the old rows and the few kept ones, not the table.
The other tables are append-only in time order: a run reads the primary key up to the first row
younger than the cutoff.
"""

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction

from alerts.models import Alert, AlertEvent, Evaluation
from inventory.models import (
    GOOD_STATUSES,
    ApplianceStorageSample,
    Asset,
    Backup,
    BackupCopy,
    Job,
    SaasDailyStatus,
    SaasSource,
)
from notifications.models import Delivery, DeliveryAttempt
from reports.models import OrganizationDay, SubjectMonth
from tenancy.models import BackgroundJob, Organization

ASSETS_PER_CHUNK = 500


@dataclass
class Pruned:
    """What one kind of row lost (or would lose, in a dry run)."""

    what: str  # "backups"
    age_days: int
    cutoff: datetime | None
    deleted: int = 0
    also: str = ""  # "with 412 copies"
    kept_old: int | None = None  # old rows kept on purpose (dry run only)
    kept_why: str = ""
    seconds: float = 0.0

    def sentence(self, dry_run: bool) -> str:
        what = self.what[0].upper() + self.what[1:]
        if not self.age_days:
            return f"{what}: kept forever (the age is 0)."
        verb = "would be deleted" if dry_run else "deleted"
        text = (f"{what} older than {self.age_days} days "
                f"(before {self.cutoff:%Y-%m-%d %H:%M} UTC): {self.deleted:,} {verb}")
        if self.also:
            text += f", {self.also}"
        text += f" ({self.seconds:.1f} s)." if self.seconds >= 0.05 else "."
        if self.kept_old:
            text += f" {self.kept_old:,} as old stay: {self.kept_why}."
        return text


def _table(model):
    return connection.ops.quote_name(model._meta.db_table)


def _good():
    return "(" + ", ".join(f"'{status}'" for status in GOOD_STATUSES) + ")"


def _hot_copied(alias, hc="hc", hb="hb"):
    """SQL: a good hot copy of a good backup of `alias`'s asset, both ended by %(now)s (R6)."""
    backup, copy, good = _table(Backup), _table(BackupCopy), _good()
    return f"""SELECT 1 FROM {copy} {hc} JOIN {backup} {hb} ON {hb}.id = {hc}.backup_id
        WHERE {hc}.asset_id = {alias}.asset_id AND {hc}.target = 'hot' AND {hc}.status IN {good}
        AND {hc}.finished_at <= %(now)s AND {hb}.status IN {good} AND {hb}.finished_at <= %(now)s"""


def _backup_goes(b="b"):
    """SQL: backup `b` is older than %(cutoff)s and is none of the rows a rule reads (see the
    module's docstring). Parameters: cutoff, now."""
    backup, copy, good = _table(Backup), _table(BackupCopy), _good()
    return f"""
    {b}.started_at < %(cutoff)s AND COALESCE({b}.finished_at, {b}.started_at) < %(cutoff)s
    -- and so are its copies (a scalar subquery: one index probe per backup, never a join)
    AND COALESCE((SELECT MAX(COALESCE(c.finished_at, c.started_at)) FROM {copy} c WHERE c.backup_id = {b}.id),
                 {b}.started_at) < %(cutoff)s
    -- not the newest backup (R7.1: the last backup's status)
    AND EXISTS (SELECT 1 FROM {backup} n WHERE n.asset_id = {b}.asset_id AND n.started_at <= %(now)s
                AND (n.started_at, n.id) > ({b}.started_at, {b}.id))
    AND ({b}.status NOT IN {good} OR {b}.finished_at IS NULL OR (
        -- not the newest good backup (R5)
        EXISTS (SELECT 1 FROM {backup} n WHERE n.asset_id = {b}.asset_id AND n.status IN {good}
                AND n.finished_at <= %(now)s AND (n.finished_at, n.id) > ({b}.finished_at, {b}.id))
        -- of a hot-copied asset (R6): not the newest good backup with a good hot copy
        AND (NOT EXISTS (SELECT 1 FROM {_table(Asset)} a WHERE a.id = {b}.asset_id AND a.hot_copy)
        OR (NOT EXISTS ({_hot_copied(b)} AND hc.backup_id = {b}.id AND NOT EXISTS (
            {_hot_copied(b, "hc2", "hb2")} AND hc2.finished_at > {b}.finished_at
            AND (hb2.finished_at, hb2.id) > ({b}.finished_at, {b}.id)))
        -- not the oldest good backup after that one (R6, "not copied since"): a hot-copied good
        -- backup ends as late, or an older good backup already ends after the newest hot-copied one
        AND (EXISTS ({_hot_copied(b)} AND hc.finished_at >= {b}.finished_at AND hb.finished_at >= {b}.finished_at)
             OR EXISTS (SELECT 1 FROM {backup} o WHERE o.asset_id = {b}.asset_id AND o.status IN {good}
                        AND o.finished_at < {b}.finished_at
                        AND NOT EXISTS ({_hot_copied(b)} AND hb.finished_at >= o.finished_at)))))))
    -- holds neither the newest hot copy nor the newest good hot copy (R6, R7.1); the first test
    -- reads the index of good hot copies, the second every hot copy, only when the first fails
    AND NOT EXISTS (SELECT 1 FROM {copy} c WHERE c.backup_id = {b}.id AND c.target = 'hot' AND NOT (CASE
        WHEN EXISTS (SELECT 1 FROM {copy} n WHERE n.asset_id = {b}.asset_id AND n.target = 'hot'
                     AND n.status IN {good} AND n.finished_at <= %(now)s AND n.started_at <= %(now)s
                     AND (n.started_at, n.id) > (c.started_at, c.id)) THEN TRUE
        ELSE EXISTS (SELECT 1 FROM {copy} n WHERE n.asset_id = {b}.asset_id AND n.target = 'hot'
                     AND n.started_at <= %(now)s AND (n.started_at, n.id) > (c.started_at, c.id)) END))
    AND NOT EXISTS (SELECT 1 FROM {copy} c WHERE c.backup_id = {b}.id AND c.target = 'hot'
                    AND c.status IN {good} AND c.finished_at IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM {copy} n WHERE n.asset_id = {b}.asset_id AND n.target = 'hot'
        AND n.status IN {good} AND n.finished_at <= %(now)s
        AND (n.finished_at, n.id) > (c.finished_at, c.id)))
    """


def _fetch(sql, params) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _execute(sql, params) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _in(ids, prefix="id") -> tuple[str, dict]:
    """An IN list of named parameters: `(%(id0)s, %(id1)s, …)` and their values."""
    names = [f"{prefix}{n}" for n in range(len(ids))]
    return "(" + ", ".join(f"%({name})s" for name in names) + ")", dict(zip(names, ids, strict=True))


def _plain_plans():
    """Every "a newer row exists" test is meant as one index probe per candidate row, and the
    batch stops at its LIMIT. The planner, seeing an IN list over hundreds of assets, prefers
    hash and merge joins over whole ranges (and JIT-compiles them for a second where running
    takes a millisecond): this transaction asks for nested loops without JIT."""
    if connection.vendor == "postgresql":
        _execute("SET LOCAL jit = off; SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off", [])


def _locked():
    return " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""


def _chunks(model, size):
    """The ids of `model` in ascending chunks of `size`."""
    after = 0
    while True:
        ids = list(model.objects.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:size])
        if not ids:
            return
        yield ids
        after = ids[-1]


def _delete_backups(ids) -> dict:
    """These backups and their copies; a job keeps its row, without the backup."""
    in_ids, params = _in(ids)
    _execute(f"UPDATE {_table(Job)} SET backup_id = NULL WHERE backup_id IN {in_ids}", params)
    copies = _execute(f"DELETE FROM {_table(BackupCopy)} WHERE backup_id IN {in_ids}", params)
    _execute(f"DELETE FROM {_table(Backup)} WHERE id IN {in_ids}", params)
    return {"copies": copies}


def _delete_alerts(ids) -> dict:
    """These closed alerts with their whole history: events, deliveries, attempts."""
    in_ids, params = _in(ids)
    events = f"SELECT id FROM {_table(AlertEvent)} WHERE alert_id IN {in_ids}"
    deliveries = f"SELECT id FROM {_table(Delivery)} WHERE event_id IN ({events})"
    _execute(f"DELETE FROM {_table(DeliveryAttempt)} WHERE delivery_id IN ({deliveries})", params)
    sent = _execute(f"DELETE FROM {_table(Delivery)} WHERE event_id IN ({events})", params)
    history = _execute(f"DELETE FROM {_table(AlertEvent)} WHERE alert_id IN {in_ids}", params)
    _execute(f"DELETE FROM {_table(Alert)} WHERE id IN {in_ids}", params)
    return {"events": history, "deliveries": sent}


@dataclass(frozen=True)
class Kind:
    """One kind of row retention prunes: its age setting and what decides that a row goes.

    `old` is the age test of row `x` (parameters: cutoff, now, today); `goes` adds what must
    also hold. Rows are walked per chunk of `parent` (`x.<parent_column> IN (…)`, along an index
    that leads with it), or, without a parent, along the primary key up to the first row whose
    `walk_column` is past the cutoff (tables written in time order)."""

    what: str
    model: type
    setting: str
    old: str
    goes: str = "TRUE"
    kept_why: str = ""
    parent: type | None = None
    parent_column: str = ""
    walk_column: str = ""
    delete: object = None  # ids -> {"copies": n, …} what went with them; None: a plain DELETE


def _kinds() -> list[Kind]:
    pending = "'pending'"
    delivery, event, status = _table(Delivery), _table(AlertEvent), _table(SaasDailyStatus)
    return [
        Kind("backups", Backup, "RETENTION_BACKUP_DAYS",
             "x.started_at < %(cutoff)s AND COALESCE(x.finished_at, x.started_at) < %(cutoff)s",
             _backup_goes("x"),
             "each asset's newest backup, newest good backup, newest hot copy and newest good hot copy,"
             " and the backups its hot-copy alarm reads",
             parent=Asset, parent_column="asset_id", delete=_delete_backups),
        Kind("SaaS daily statuses", SaasDailyStatus, "RETENTION_SAAS_STATUS_DAYS", "x.date < %(cutoff_date)s",
             f"EXISTS (SELECT 1 FROM {status} n WHERE n.source_id = x.source_id AND n.date <= %(today)s"
             " AND n.date > x.date)",
             "each source's newest status", parent=SaasSource, parent_column="source_id"),
        Kind("appliance jobs", Job, "RETENTION_JOB_DAYS", "x.started_at < %(cutoff)s",
             "x.state IN ('finished', 'failed', 'cancelled') AND COALESCE(x.finished_at, x.started_at) < %(cutoff)s",
             "jobs still queued or running on their appliance", walk_column="started_at"),
        Kind("closed alerts", Alert, "RETENTION_ALERT_DAYS", "x.raised_at < %(cutoff)s",
             f"""x.state <> 'open' AND COALESCE(x.resolved_at, x.dismissed_at, x.raised_at) < %(cutoff)s
             AND NOT EXISTS (SELECT 1 FROM {event} e WHERE e.alert_id = x.id AND e.at >= %(cutoff)s)
             AND NOT EXISTS (SELECT 1 FROM {delivery} d JOIN {event} e ON e.id = d.event_id
                             WHERE e.alert_id = x.id AND d.state = {pending})""",
             "open alerts, alerts closed since the cutoff, alerts with a delivery still pending",
             walk_column="raised_at", delete=_delete_alerts),
        Kind("delivery attempts", DeliveryAttempt, "RETENTION_ATTEMPT_DAYS", "x.started_at < %(cutoff)s",
             f"EXISTS (SELECT 1 FROM {delivery} d WHERE d.id = x.delivery_id AND d.state <> {pending})",
             "attempts of deliveries still pending", walk_column="started_at"),
        Kind("appliance storage samples", ApplianceStorageSample, "RETENTION_STORAGE_SAMPLE_DAYS",
             "x.at < %(cutoff)s", walk_column="at"),
        Kind("evaluations", Evaluation, "RETENTION_EVALUATION_DAYS", "x.started_at < %(cutoff)s",
             walk_column="started_at"),
        # R18.1: the compliance history, a year at least (the setting's floor is 366 days); a
        # subject's month goes once its last day is older than that.
        Kind("compliance months of assets and SaaS sources", SubjectMonth, "RETENTION_COMPLIANCE_DAYS",
             "x.month + interval '1 month' <= %(cutoff_date)s", parent=Organization, parent_column="organization_id"),
        Kind("compliance days of organizations", OrganizationDay, "RETENTION_COMPLIANCE_DAYS",
             "x.day < %(cutoff_date)s", parent=Organization, parent_column="organization_id"),
        # A job still queued or running this long after it was asked for lost its worker
        # (BACKGROUND_JOB_TIMEOUT_SECONDS): it goes too.
        Kind("background jobs", BackgroundJob, "RETENTION_BACKGROUND_JOB_DAYS", "x.created_at < %(cutoff)s",
             "(x.state NOT IN ('done', 'failed') OR COALESCE(x.finished_at, x.created_at) < %(cutoff)s)",
             walk_column="created_at"),
    ]


def _params(now, days) -> dict:
    cutoff = now - timedelta(days=days)
    return {"cutoff": cutoff, "cutoff_date": cutoff.date(), "now": now, "today": now.date()}


def _batches(kind, params, batch_size):
    """Yield SELECTs of the next batch of ids that go, each to run in its own transaction."""
    table = _table(kind.model)
    where = f"({kind.old}) AND ({kind.goes})"
    if kind.parent is not None:
        for parents in _chunks(kind.parent, ASSETS_PER_CHUNK):
            in_parents, chunk = _in(parents, "parent")
            sql = (f"SELECT x.id FROM {table} x WHERE x.{kind.parent_column} IN {in_parents} AND {where}"
                   f" LIMIT {int(batch_size)}")
            yield sql, {**params, **chunk}, None
        return
    rows = _fetch(f"SELECT x.id FROM {table} x WHERE NOT (x.{kind.walk_column} < %(cutoff)s)"
                  " ORDER BY x.id LIMIT 1", params)
    boundary = rows[0][0] if rows else None
    bound = "" if boundary is None else f" AND x.id < {int(boundary)}"
    sql = (f"SELECT x.id FROM {table} x WHERE x.id > %(after)s{bound} AND {where}"
           f" ORDER BY x.id LIMIT {int(batch_size)}")
    yield sql, params, "after"


def _delete(kind, ids) -> dict:
    if kind.delete is not None:
        return kind.delete(ids)
    in_ids, params = _in(ids)
    _execute(f"DELETE FROM {_table(kind.model)} WHERE id IN {in_ids}", params)
    return {}


def _prune_kind(kind, now, batch_size) -> Pruned:
    days = getattr(settings, kind.setting)
    params = _params(now, days)
    result = Pruned(kind.what, days, params["cutoff"] if days else None, kept_why=kind.kept_why)
    if not days:
        return result
    started = time.monotonic()
    also = {}
    for sql, chunk_params, cursor_key in _batches(kind, params, batch_size):
        after = 0
        while True:
            with transaction.atomic():
                _plain_plans()
                if cursor_key:
                    chunk_params[cursor_key] = after
                ids = [row[0] for row in _fetch(sql + _locked(), chunk_params)]
                if ids:
                    for name, count in _delete(kind, ids).items():
                        also[name] = also.get(name, 0) + count
                    result.deleted += len(ids)
                    after = ids[-1]
            if len(ids) < batch_size:
                break
    result.also = ", ".join(f"with {count:,} {name}" for name, count in also.items())
    result.seconds = time.monotonic() - started
    return result


def _count_kind(kind, now) -> Pruned:
    """What a run would delete, and how many rows as old it keeps on purpose; per chunk of
    parents, like a run."""
    days = getattr(settings, kind.setting)
    params = _params(now, days)
    result = Pruned(kind.what, days, params["cutoff"] if days else None, kept_why=kind.kept_why)
    if not days:
        return result
    table, old, copies = _table(kind.model), 0, 0
    _plain_plans()
    chunks = _chunks(kind.parent, ASSETS_PER_CHUNK) if kind.parent is not None else [None]
    for parents in chunks:
        scope, chunk = "TRUE", {}
        if parents is not None:
            in_parents, chunk = _in(parents, "parent")
            scope = f"x.{kind.parent_column} IN {in_parents}"
        values = {**params, **chunk}
        old += _fetch(f"SELECT COUNT(*) FROM {table} x WHERE {scope} AND {kind.old}", values)[0][0]
        goes = f"SELECT x.id FROM {table} x WHERE {scope} AND ({kind.old}) AND ({kind.goes})"
        result.deleted += _fetch(f"SELECT COUNT(*) FROM ({goes}) going", values)[0][0]
        if kind.model is Backup:
            copies += _fetch(f"SELECT COUNT(*) FROM {_table(BackupCopy)} WHERE backup_id IN ({goes})", values)[0][0]
    result.kept_old = old - result.deleted
    if kind.model is Backup:
        result.also = f"with {copies:,} copies"
    return result


def prune(now, dry_run=False, batch_size=None) -> list[Pruned]:
    """Delete (or, dry, count) every kind of row past its age, at `now`."""
    batch_size = batch_size or settings.RETENTION_BATCH_SIZE
    if dry_run:
        with transaction.atomic():
            return [_count_kind(kind, now) for kind in _kinds()]
    return [_prune_kind(kind, now, batch_size) for kind in _kinds()]
