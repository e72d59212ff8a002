"""Benchmark of retention: pruning 1,000,000 old backups, and what a row costs on disk.

    python -m bench.retention    # builds its own account, prunes, writes bench/RESULTS_retention.md

The data: one account with 5,000 assets, each with 200 daily backups 401 to 600 days old
(1,000,000 old rows, ~2% failed) and 31 recent ones (0 to 30 days); hot copies of the good
old backups of 40% of the assets. Kept cases in every run: 1% of the assets stopped backing
up 401 days ago (their newest and newest good backup are old and must stay), and 1% of the
hot-copied assets stopped copying 500 days ago (the hot-copy alarm's backups must stay).
Plus 100,000 closed alerts 500 days old, each with 2 events, 2 deliveries and 2 attempts, and
1,000 open ones as old (their history stays). Rows go in with COPY. The prune runs at
2026-11-02 12:00 UTC with the default ages; the rules' answers for the account are compared
before and after, and a second run must delete nothing.
"""

import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "uniview.settings")

import django  # noqa: E402

django.setup()

from dataclasses import asdict  # noqa: E402

from django.db import connection, transaction  # noqa: E402

from alerts.models import Alert, AlertEvent  # noqa: E402
from alerts.rules import backup_alarm, hot_copy_alarm  # noqa: E402
from inventory.models import Appliance, Asset, Backup, BackupCopy, BackupSchedule  # noqa: E402
from notifications.models import Delivery, DeliveryAttempt  # noqa: E402
from observability import retention  # noqa: E402
from tenancy.accounts import create_account  # noqa: E402
from tenancy.models import Account, Organization  # noqa: E402
from thresholds.models import GlobalThreshold  # noqa: E402

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
NAME = "Bench retention"
ASSETS = int(os.environ.get("BENCH_RETENTION_ASSETS", "5000"))  # a smaller run to try the bench
OLD_DAYS, RECENT_DAYS = range(401, 601), range(0, 31)
CLOSED_ALERTS, OPEN_ALERTS = 100_000, 1_000
RESULTS = Path(__file__).with_name("RESULTS_retention.md")
TABLES = [Backup, BackupCopy, Alert, AlertEvent, Delivery, DeliveryAttempt]


def _copy(model, columns, rows):
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        # Each COPY commits on its own (the deferred foreign-key checks run then): fresh statistics
        # keep those checks on the primary key, not on a plan made for an empty table.
        cursor.execute(f"ANALYZE {model._meta.db_table}")


def _ids(model, count):
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                       [model._meta.db_table, count])
        return [row[0] for row in cursor.fetchall()]


def _account():
    """The bench's account, emptied of what the last run left."""
    account = Account.objects.filter(name=NAME).first()
    if account is None:
        return create_account(NAME)
    with connection.cursor() as cursor:
        for model in (DeliveryAttempt,):
            cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE delivery_id IN "
                           "(SELECT id FROM notifications_delivery WHERE account_id = %s)", [account.pk])
        for model in (Delivery, AlertEvent, Alert, BackupCopy, Backup, BackupSchedule, Asset, Appliance):
            cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE account_id = %s", [account.pk])
    GlobalThreshold.objects.filter(account=account).delete()
    Organization.objects.filter(account=account).delete()
    return account


def _inventory(account, rng):
    orgs = Organization.objects.bulk_create([Organization(account=account, name=f"Customer {n}") for n in range(50)])
    appliances = Appliance.objects.bulk_create([
        Appliance(account=account, organization=orgs[n * 2], external_id=f"r-{n}", name=f"retention-{n}",
                  version="10.8.2", timezone="UTC", last_contact_at=NOW) for n in range(25)
    ])
    GlobalThreshold.objects.create(account=account, backups_hours=24, hot_copy_hours=24)
    asset_ids = _ids(Asset, ASSETS)
    assets = [(asset_id, appliances[n % 25], n % 5 < 2, n % 100 == 7, n % 100 == 3)
              for n, asset_id in enumerate(asset_ids)]  # (id, appliance, hot, stopped, copies stop)
    _copy(Asset, ["id", "account_id", "appliance_id", "organization_id", "external_id", "name", "type", "hot_copy",
                  "created_at", "updated_at"],
          ((a[0], account.pk, a[1].pk, a[1].organization_id, f"r{a[0]}", f"r{a[0]}", "vmware", a[2], NOW, NOW)
           for a in assets))
    _copy(BackupSchedule, ["account_id", "asset_id", "name", "rrule", "dtstart"],
          ((account.pk, a[0], "Daily", "FREQ=DAILY;BYHOUR=22;BYMINUTE=0", "2024-01-01T22:00:00") for a in assets))
    backup_ids = iter(_ids(Backup, ASSETS * (len(OLD_DAYS) + len(RECENT_DAYS))))
    written = [0, 0]
    for first in range(0, len(assets), 500):  # COPY per 500 assets: the rows never all sit in memory
        backups, copies = [], []
        for asset_id, _appliance, hot, stopped, copies_stop in assets[first:first + 500]:
            for day in [*reversed(OLD_DAYS), *([] if stopped else reversed(RECENT_DAYS))]:
                start = (NOW - timedelta(days=day)).replace(hour=22, minute=0) - timedelta(days=1)
                end = start + timedelta(minutes=rng.randint(20, 90))
                status = "failed" if rng.random() < 0.02 else "success"
                backup_id = next(backup_ids)
                backups.append((backup_id, account.pk, asset_id, f"b{backup_id}", "incremental", status, start,
                                end, 10 * 1024**3, "disk full" if status == "failed" else ""))
                if hot and status != "failed" and not (copies_stop and day < 500):
                    copies.append((account.pk, asset_id, backup_id, f"c{backup_id}", "hot", "success",
                                   end + timedelta(minutes=5), end + timedelta(minutes=35), ""))
        _copy(Backup, ["id", "account_id", "asset_id", "external_id", "type", "status", "started_at",
                       "finished_at", "size_bytes", "error"], backups)
        _copy(BackupCopy, ["account_id", "asset_id", "backup_id", "external_id", "target", "status", "started_at",
                           "finished_at", "error"], copies)
        written[0] += len(backups)
        written[1] += len(copies)
    return written


def _alerts(account, org):
    raised, closed = NOW - timedelta(days=500), NOW - timedelta(days=499)
    alert_ids = _ids(Alert, CLOSED_ALERTS + OPEN_ALERTS)
    _copy(Alert, ["id", "account_id", "organization_id", "organization_name", "fingerprint", "kind", "category",
                  "subject", "title", "group_key", "group_label", "state", "raised_at", "resolved_at",
                  "resolved_reason", "dismiss_reason", "details", "links"],
          ((a, account.pk, org.pk, org.name, f"backup_alarm:asset:{a}", "backup_alarm", "backups", f"asset:{a}",
            f"No backup of r{a} within 24 h", "g", "Backup alarm", "open" if n < OPEN_ALERTS else "resolved",
            raised, None if n < OPEN_ALERTS else closed, "" if n < OPEN_ALERTS else "cleared", "",
            '{"threshold_hours": 24}', "{}") for n, a in enumerate(alert_ids)))
    events = [(e, a, t, at) for n, a in enumerate(alert_ids)
              for e, t, at in ([(None, "raised", raised)] + ([] if n < OPEN_ALERTS else [(None, "resolved", closed)]))]
    event_ids = _ids(AlertEvent, len(events))
    _copy(AlertEvent, ["id", "uuid", "account_id", "alert_id", "type", "at", "reason"],
          ((eid, str(uuid.uuid4()), account.pk, a, t, at, "") for eid, (_, a, t, at) in zip(event_ids, events, strict=True)))
    delivery_ids = _ids(Delivery, len(events))
    _copy(Delivery, ["id", "account_id", "event_id", "channel", "target", "state", "attempts", "next_attempt_at",
                     "last_error", "external_ref", "created_at", "sent_at"],
          ((d, account.pk, e, "psa", "1", "sent", 1, at, "", f"T-{d}", at, at)
           for d, e, (_, _, _, at) in zip(delivery_ids, event_ids, events, strict=True)))
    _copy(DeliveryAttempt, ["delivery_id", "started_at", "duration_ms", "ok", "error"],
          ((d, at, 120, True, "") for d, (_, _, _, at) in zip(delivery_ids, events, strict=True)))
    return len(events)


def _sizes():
    """Bytes per row of each table, heap (with TOAST) and indexes, measured on a fresh copy of it
    (a temporary table with the same indexes), so space left by earlier deletes does not count."""
    sizes, index_sizes = {}, []
    with connection.cursor() as cursor:
        for model in TABLES:
            table = model._meta.db_table
            cursor.execute("DROP TABLE IF EXISTS sized")
            cursor.execute(f"CREATE TEMPORARY TABLE sized (LIKE {table} INCLUDING ALL)")
            cursor.execute(f"INSERT INTO sized SELECT * FROM {table}")
            rows = max(cursor.rowcount, 1)
            cursor.execute("SELECT pg_table_size('sized'), pg_indexes_size('sized')")
            heap, indexes = cursor.fetchone()
            sizes[table] = (rows, heap / rows, indexes / rows)
            if model is Backup:
                cursor.execute("SELECT pg_get_indexdef(indexrelid), pg_relation_size(indexrelid) FROM pg_index "
                               "WHERE indrelid = 'sized'::regclass ORDER BY 2 DESC")
                index_sizes = [(definition.split(" USING btree ", 1)[-1], size / rows)
                               for definition, size in cursor.fetchall()]
            cursor.execute("DROP TABLE sized")
    return sizes, index_sizes


def _answers(account):
    found = list(backup_alarm.conditions(account, NOW)) + list(hot_copy_alarm.conditions(account, NOW))
    return sorted((asdict(c) for c in found), key=lambda c: (c["kind"], c["subject"]))


def _newest_facts(account):
    """Per asset: the newest backup, the newest good backup's end, the newest good hot copy's end."""
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT a.id,
              (SELECT id FROM inventory_backup b WHERE b.asset_id = a.id ORDER BY started_at DESC, id DESC LIMIT 1),
              (SELECT max(finished_at) FROM inventory_backup b WHERE b.asset_id = a.id
                 AND status IN ('success', 'warning')),
              (SELECT max(finished_at) FROM inventory_backupcopy c WHERE c.asset_id = a.id AND target = 'hot'
                 AND status IN ('success', 'warning'))
            FROM inventory_asset a WHERE a.account_id = %s ORDER BY a.id""", [account.pk])
        return cursor.fetchall()


def main():
    rng = random.Random(17)
    load_before = os.getloadavg()[0]
    with transaction.atomic():
        account = _account()
    started = time.monotonic()
    backups, copies = _inventory(account, rng)
    events = _alerts(account, Organization.objects.filter(account=account).first())
    generated = time.monotonic() - started
    sizes, index_sizes = _sizes()
    facts, answers = _newest_facts(account), _answers(account)
    old_before = Backup.objects.filter(account=account, started_at__lt=NOW - timedelta(days=400)).count()
    assets_walked = Asset.objects.count()

    started = time.monotonic()
    first = {p.what: p for p in retention.prune(NOW)}
    pruned_in = time.monotonic() - started
    load_during = os.getloadavg()[0]
    started = time.monotonic()
    second = {p.what: p for p in retention.prune(NOW)}
    idle_in = time.monotonic() - started

    same_facts, same_answers = _newest_facts(account) == facts, _answers(account) == answers
    old_after = Backup.objects.filter(account=account, started_at__lt=NOW - timedelta(days=400)).count()
    open_kept = Alert.objects.filter(account=account, state="open").count()
    open_events = AlertEvent.objects.filter(alert__account=account, alert__state="open").count()
    report(locals())
    if not (same_facts and same_answers and second["backups"].deleted == 0 and open_kept == OPEN_ALERTS):
        sys.exit("retention changed what the rules read, or is not idempotent: see bench/RESULTS_retention.md")


def report(m):
    b, a = m["first"]["backups"], m["first"]["closed alerts"]
    rows = [
        ("old backups pruned (of " + f"{m['old_before']:,} older than 400 days)", f"{b.deleted:,} with {b.also[5:]}"),
        ("time to prune them (batches of 5,000, one transaction each)", f"{b.seconds:.1f} s"),
        ("backups pruned per second", f"{b.deleted / b.seconds:,.0f}/s"),
        ("old backups kept on purpose (newest, newest good, hot-copy alarm's)", f"{m['old_after']:,}"),
        ("each asset's newest backup, newest good backup and newest good hot copy unchanged", "yes" if m["same_facts"] else "NO"),
        ("the backup and hot-copy alarms' conditions and details unchanged", "yes" if m["same_answers"] else "NO"),
        ("closed alerts pruned, with their history", f"{a.deleted:,} {a.also} in {a.seconds:.1f} s "
                                                       f"({a.deleted / max(a.seconds, 1e-9):,.0f} alerts/s)"),
        ("open alerts kept, with their events (as old)", f"{m['open_kept']:,} with {m['open_events']:,} events"),
        ("the whole first run (every kind)", f"{m['pruned_in']:.1f} s"),
        ("second run: rows deleted", f"{sum(p.deleted for p in m['second'].values())}"),
        (f"second run, nothing old ({m['assets_walked']:,} assets walked)", f"{m['idle_in']:.1f} s: " + ", ".join(
            f"{p.what} {p.seconds:.2f} s" for p in m["second"].values() if p.age_days)),
    ]
    lines = [
        "# Benchmark: retention (issue 17, item 6)",
        "",
        f"Measured by `make bench` (`python -m bench.retention`) on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC "
        f"(PostgreSQL 15 on localhost, 2 cores shared with other work: 1-minute load average "
        f"{m['load_before']:.1f} before, {m['load_during']:.1f} after the first run).",
        f"Data: {ASSETS:,} assets, {m['backups']:,} backups ({len(OLD_DAYS)} a day 401–600 days old, "
        f"{len(RECENT_DAYS)} recent), {m['copies']:,} hot copies, {CLOSED_ALERTS + OPEN_ALERTS:,} alerts "
        f"with {m['events']:,} events, deliveries and attempts each; written with COPY in {m['generated']:.0f} s.",
        "The prune runs at 2026-11-02 12:00 UTC with the default ages (backups and alerts 400 days).",
        "",
        "| figure | measured |",
        "|---|---|",
        *[f"| {name} | {value} |" for name, value in rows],
        "",
        "## Bytes per row (PostgreSQL 15, a fresh copy of each table with its indexes, before the prune)",
        "",
        "| table | rows | heap bytes/row | index bytes/row | total bytes/row |",
        "|---|---|---|---|---|",
        *[f"| `{t}` | {r:,} | {h:.0f} | {i:.0f} | {h + i:.0f} |" for t, (r, h, i) in m["sizes"].items()],
        "",
        "Every row the table holds counts, other benchmarks' rows in the same database included.",
        "",
        "| index of `inventory_backup` (columns) | bytes per backup row |",
        "|---|---|",
        *[f"| `{name}` | {size:.0f} |" for name, size in m["index_sizes"]],
        "",
    ]
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
