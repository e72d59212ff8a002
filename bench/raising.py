"""Benchmark of raising N alarms at once (issue 17), beside the floor measured in the same run.

    python -m bench.raising                 # N = 10,000, 50,000, 100,000; writes bench/RESULTS_raising.md
    python -m bench.raising 10000 50000     # other sizes (the results file is written all the same)

For each N: one account with N assets on daily schedules and no backup at all, so that
an evaluation at NOW raises N backup alarms (the real path: the rules, the reconciler,
the events and, through the outbox, one email delivery per alarm). Then:

- raise: the first evaluation (every alarm, its event and its delivery), at the present of a
  clock set to NOW (time_machine), so that, as in beat, each asset's next moment is written
  too; in a fresh process whose peak memory (maxrss) is the evaluation's;
- idle: beat's cycle a minute later with nothing changed (`evaluate_due` at the present):
  what is due only, an index range, nothing written;
- full: a full evaluation at that moment with nothing changed (every rule over every
  subject, every open alert compared): what a person's "evaluate now" costs;
- floor: the same rows (alerts, events, deliveries, and the assets' next moments) written
  again with one statement per table from a copy of what the raise wrote: the cost of the
  writes alone.

Sending the queued deliveries is not measured here (bench/dispatch.py): the task that would
carry them is replaced by a counter, so a figure is the evaluation's, not the broker's.
"""

import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "uniview.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402

from alerts.models import Alert, AlertSettings  # noqa: E402
from bench.rows import copy_rows, database_cpu  # noqa: E402
from inventory.due import changed_moment  # noqa: E402
from inventory.models import Appliance, Asset, BackupSchedule  # noqa: E402
from tenancy.accounts import create_account  # noqa: E402
from tenancy.models import Account, Organization  # noqa: E402
from thresholds.models import GlobalThreshold  # noqa: E402

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
SIZES = (10_000, 50_000, 100_000)
IDLE_AFTER = timedelta(minutes=1)  # beat's next cycle
ASSETS_PER_ORGANIZATION = 50
ASSETS_PER_APPLIANCE = 200
RESULTS = Path(__file__).with_name("RESULTS_raising.md")


def _name(n):
    return f"Bench raising ({n:,} alarms)"


def build(n):
    """N assets, each on a daily schedule, none ever backed up: N backup alarms at NOW."""
    if Account.objects.filter(name=_name(n)).exists():
        return
    started = time.monotonic()
    with transaction.atomic():
        account = create_account(_name(n))
        # Storm control off (R17.1): each alarm its own email, as the floor writes one delivery per alarm;
        # bench/storm.py measures the bad day with it on.
        AlertSettings.objects.update_or_create(account=account, defaults={"emails": ["noc@example.com"], "storm_threshold": 0})
        GlobalThreshold.objects.create(account=account, backups_hours=24, hot_copy_hours=24)
        Organization.objects.bulk_create(
            [Organization(account=account, name=f"Customer {i:05d}") for i in range(max(1, n // ASSETS_PER_ORGANIZATION))],
            batch_size=2000,
        )
        orgs = list(Organization.objects.filter(account=account).order_by("pk").values_list("pk", flat=True))
        Appliance.objects.bulk_create([
            Appliance(account=account, organization_id=orgs[i * len(orgs) // max(1, n // ASSETS_PER_APPLIANCE)],
                      external_id=f"ua-{i}", name=f"appliance-{i:04d}", version="10.8.2", timezone="UTC",
                      last_contact_at=NOW - timedelta(minutes=1))
            for i in range(max(1, n // ASSETS_PER_APPLIANCE))
        ], batch_size=2000)
        appliances = list(Appliance.objects.filter(account=account).order_by("pk").values_list("pk", "organization_id"))
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                           [Asset._meta.db_table, n])
            ids = [row[0] for row in cursor.fetchall()]
        assets = [(asset_id, *appliances[i * len(appliances) // n]) for i, asset_id in enumerate(ids)]
        copy_rows(Asset._meta.db_table, ["id", "account_id", "appliance_id", "organization_id", "external_id", "name",
                                     "type", "hot_copy", "created_at", "updated_at"],
              ((a, account.pk, appliance, org, f"vm-{a}", f"vm-{a:07d}", "vmware", False, NOW, NOW)
               for a, appliance, org in assets))
        copy_rows(BackupSchedule._meta.db_table, ["account_id", "asset_id", "name", "rrule", "dtstart"],
              ((account.pk, a, "Daily", f"FREQ=DAILY;BYHOUR={a % 24};BYMINUTE=0", "2026-09-01T00:00:00")
               for a, _, _ in assets))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"generated {_name(n)} in {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)


def _clear(account_id):
    """Back to the state `build` left: no alert, every asset and appliance due."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE inventory_nextcheck SET next_check_at = %s WHERE account_id = %s "
                       "AND kind IN ('asset', 'appliance')", [changed_moment(), account_id])
        cursor.execute("DELETE FROM notifications_delivery WHERE account_id = %s", [account_id])
        cursor.execute("DELETE FROM alerts_alertevent WHERE account_id = %s", [account_id])
        cursor.execute("DELETE FROM alerts_alert WHERE account_id = %s", [account_id])
        cursor.execute("DELETE FROM alerts_evaluation WHERE account_id = %s", [account_id])
    if not connection.in_atomic_block:  # as autovacuum would (it is off on some servers): what a run
        with connection.cursor() as cursor:  # deleted or updated does not weigh on the next
            cursor.execute("VACUUM ANALYZE alerts_alert, alerts_alertevent, notifications_delivery, inventory_nextcheck")


def _columns(table, skip=("id",)):
    with connection.cursor() as cursor:
        cursor.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                       "ORDER BY ordinal_position", [table])
        return [row[0] for row in cursor.fetchall() if row[0] not in skip]


def floor(account_id) -> float:
    """The rows the raise wrote, written again with one statement per table: the alerts, their
    events and deliveries (INSERT … SELECT) and the assets' next moments (UPDATE … FROM)."""
    alert_columns = ", ".join(_columns("alerts_alert"))
    delivery_columns = [c for c in _columns("notifications_delivery") if c != "event_id"]
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE staged_alerts AS SELECT {alert_columns} FROM alerts_alert "
                       "WHERE account_id = %s", [account_id])
        cursor.execute("CREATE TEMP TABLE staged_delivery AS SELECT * FROM notifications_delivery "
                       "WHERE account_id = %s LIMIT 1", [account_id])
        cursor.execute("CREATE TEMP TABLE staged_moments AS SELECT subject_id, next_check_at FROM inventory_nextcheck "
                       "WHERE account_id = %s AND kind = 'asset'", [account_id])
    _clear(account_id)
    backend = database_cpu()
    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO alerts_alert ({alert_columns}) SELECT {alert_columns} FROM staged_alerts")
        cursor.execute(
            "INSERT INTO alerts_alertevent (uuid, account_id, alert_id, type, at, reason) "
            "SELECT gen_random_uuid(), account_id, id, 'raised', raised_at, '' FROM alerts_alert "
            "WHERE account_id = %s AND state = 'open'", [account_id])
        picked = ", ".join(f"d.{c}" for c in delivery_columns)
        cursor.execute(
            f"INSERT INTO notifications_delivery (event_id, {', '.join(delivery_columns)}) "
            f"SELECT e.id, {picked} FROM alerts_alertevent e CROSS JOIN staged_delivery d WHERE e.account_id = %s",
            [account_id])
        cursor.execute("UPDATE inventory_nextcheck n SET next_check_at = s.next_check_at FROM staged_moments s "
                       "WHERE n.kind = 'asset' AND n.subject_id = s.subject_id")
    seconds, cpu = time.monotonic() - started, database_cpu() - backend
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE staged_alerts; DROP TABLE staged_delivery; DROP TABLE staged_moments")
    return seconds, cpu


def _quiet_queue():
    """The deliveries are written; their Celery messages are only counted (see the docstring)."""
    from notifications import tasks

    queued = []
    tasks.queue = lambda ids: queued.append(len(ids))
    return queued


def _evaluate(account, at=NOW, due_only=False):
    """One evaluation at the present of a clock set to `at`: as beat runs it."""
    import time_machine

    from alerts.evaluation import evaluate, evaluate_due

    with time_machine.travel(at, tick=True):
        started = time.monotonic()
        run = (evaluate_due if due_only else evaluate)(account, at)
        return time.monotonic() - started, run


def _timing_moments():
    """Seconds spent computing and writing the next moments (part of the raise), summed."""
    from alerts import evaluation

    spent = [0.0]

    def timed(original):
        def wrapper(*args, **kwargs):
            started = time.monotonic()
            try:
                return original(*args, **kwargs)
            finally:
                spent[0] += time.monotonic() - started
        return wrapper

    evaluation.next_moments = timed(evaluation.next_moments)
    evaluation.due.write_next_checks = timed(evaluation.due.write_next_checks)
    return spent


def _warm_up():
    """What a long-lived worker has loaded already (the URLconf the alarms' links are
    reversed from): not a cost of raising."""
    from django.urls import reverse

    reverse("dashboard:alerts")


def measure(n) -> dict:
    """In this (fresh) process: raise, idle cycle, then the floor. Prints one JSON line."""
    account = Account.objects.get(name=_name(n))
    _clear(account.pk)
    _warm_up()
    queued = _quiet_queue()
    moments = _timing_moments()
    profile = os.environ.get("BENCH_PROFILE")
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    timings = {}

    def timed(execute, sql, params, many, context):
        started = time.monotonic()
        try:
            return execute(sql, params, many, context)
        finally:
            key = " ".join(sql.split())[:90]
            spent, count = timings.get(key, (0.0, 0))
            timings[key] = (spent + time.monotonic() - started, count + 1)

    cpu_before, backend_before = _cpu(), database_cpu()
    with connection.execute_wrapper(timed):
        raise_s, first = _evaluate(account)
    cpu_s, db_cpu_s = _cpu() - cpu_before, database_cpu() - backend_before
    if os.environ.get("BENCH_STATEMENTS"):
        for key, (spent, count) in sorted(timings.items(), key=lambda item: -item[1][0])[:12]:
            print(f"{spent:7.2f} s {count:5d}× {key}", file=sys.stderr)
    if profile:
        profiler.disable()
        profiler.dump_stats(profile)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    moments_s = moments[0]
    _analyze()
    idle_s, second = _evaluate(account, NOW + IDLE_AFTER, due_only=True)
    full_s, third = _evaluate(account, NOW + IDLE_AFTER)
    counts = {
        "alerts": Alert.objects.filter(account=account, state="open").count(),
        "deliveries": first.raised and _count("notifications_delivery", account.pk),
    }
    floor_s, floor_cpu_s = floor(account.pk)
    _clear(account.pk)
    rules_s = _rules_alone(account)
    return {
        "n": n, "raised": first.raised, "raise_s": raise_s, "cpu_s": cpu_s, "peak_mb": peak_mb,
        "moments_s": moments_s, "idle_s": idle_s, "idle_written": bool(second.pk), "idle_raised": second.raised,
        "idle_resolved": second.resolved, "full_s": full_s, "full_raised": third.raised,
        "full_resolved": third.resolved, "kept": third.kept,
        "db_cpu_s": db_cpu_s, "floor_s": floor_s, "floor_cpu_s": floor_cpu_s, "rules_s": rules_s,
        "queued": sum(queued), "load": os.getloadavg()[0], **counts,
    }


def _analyze():
    """What autovacuum does within a minute of a raise that rewrote most of these tables: the
    planner's statistics follow the rows (every asset due at `build`, none after the raise)."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE inventory_nextcheck, alerts_alert")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rules_alone(account) -> float:
    """Every rule's conditions at NOW, written nowhere: the part of a cycle that is not the reconciler's."""
    from alerts.rules import RULES

    started = time.monotonic()
    with transaction.atomic():
        for _, conditions in RULES:
            for _ in conditions(account, NOW):
                pass
    return time.monotonic() - started


def _count(table, account_id):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table} WHERE account_id = %s", [account_id])
        return cursor.fetchone()[0]


def _child(*args) -> str:
    return subprocess.run([sys.executable, "-m", "bench.raising", *args], check=True, stdout=subprocess.PIPE,
                          text=True).stdout


# Earlier runs of this benchmark, kept for comparison, not re-measured. The first: this code at a
# higher load. Then the same benchmark run on the code before set-based raising (the reconciler comparing every
# kept alert field by field, per-row parameters, rules building one list of every alarm),
# on 2026-11-30 on this machine, load average about 8: kept for comparison, not re-measured.
BEFORE = [
    "This code, a run minutes before the one above (2026-12-01, load 1.1–1.3; CPU as above):",
    "",
    "| N | raise (s) | floor (s) | raise / floor | of the raise: next moments (s) | CPU: raise (s) | CPU: floor (s) "
    "| raise / floor in CPU | peak memory (MB) | idle cycle, beat (s) | full re-evaluation (s) | load average |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
    "| 10,000 | 2.81 | 1.01 | 2.8× | 0.39 | 1.2 + 1.7 | 1.0 | 3.0× | 228 | 0.03 | 0.82 | 1.2 |",
    "| 50,000 | 15.14 | 5.76 | 2.6× | 2.77 | 6.2 + 10.4 | 5.6 | 2.9× | 246 | 0.03 | 3.26 | 1.3 |",
    "| 100,000 | 36.31 | 13.07 | 2.8× | 6.73 | 12.1 + 26.7 | 12.9 | 3.0× | 264 | 0.03 | 5.12 | 1.1 |",
    "",
    "The code of the last round (without reading ahead, orjson or the shared schedule lines), 2026-11-30, at load 6.1–9.1 (CPU: the process + its PostgreSQL backend; the floor's backend):",
    "",
    "| N | raise (s) | floor (s) | raise / floor | of the raise: next moments (s) | CPU: raise (s) | CPU: floor (s) "
    "| raise / floor in CPU | peak memory (MB) | idle cycle, beat (s) | full re-evaluation (s) | load average |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
    "| 10,000 | 19.55 | 6.53 | 3.0× | 2.89 | 3.1 + 2.5 | 1.9 | 3.0× | 199 | 0.34 | 6.60 | 7.4 |",
    "| 50,000 | 118.08 | 30.68 | 3.8× | 23.61 | 13.9 + 14.7 | 8.6 | 3.3× | 234 | 0.46 | 27.57 | 9.1 |",
    "| 100,000 | 197.55 | 48.66 | 4.1× | 54.39 | 24.1 + 30.2 | 17.2 | 3.2× | 248 | 0.34 | 51.85 | 6.1 |",
    "",
    "The previous version (set-based writes, batches of 1,000, eight subqueries per checklist, missed starts counted "
    "per alarm), same benchmark, 2026-11-30, on a quieter machine:",
    "",
    "| N | raise (s) | floor (s) | raise / floor | of the raise: the rules alone (s) | CPU of the process (s) "
    "| peak memory (MB) | idle cycle, N open (s) | load average |",
    "|---|---|---|---|---|---|---|---|---|",
    "| 10,000 | 3.03 | 0.71 | 4.2× | 0.82 | 2.4 | 131 | 1.37 | 5.1 |",
    "| 50,000 | 16.16 | 3.81 | 4.2× | 4.28 | 10.2 | 151 | 8.15 | 3.1 |",
    "| 100,000 | 34.61 | 8.20 | 4.2× | 9.81 | 20.8 | 194 | 17.78 | 1.6 |",
    "",
    "Before set-based raising (same benchmark, same machine, 2026-11-30, load average 8.2 and 7.7):",
    "",
    "| N | raise (s) | floor (s) | raise / floor | of the raise: the rules alone (s) | CPU of the process (s) "
    "| peak memory (MB) | idle cycle, N open (s) |",
    "|---|---|---|---|---|---|---|---|",
    "| 10,000 | 13.00 | 1.32 | 9.9× | 1.75 | 5.3 | 152 | 3.39 |",
    "| 50,000 | 73.17 | 5.04 | 14.5× | 12.60 | 27.4 | 361 | 13.83 |",
    "",
]


# Where a raise spends its time: a sampling profile (py-spy, CPU samples of the evaluating process) and
# each run of old and new code in turn on the same data (2026-12-01, N = 50,000, load about 1); then
# cProfile and every SQL statement timed (BENCH_PROFILE=file, BENCH_STATEMENTS=1), N = 10,000,
# 2026-11-30, load 7–10; kept, not re-measured.
HOT_SPOTS = [
    "Where the time went (N = 50,000; CPU samples of the evaluating process, and each change measured by running "
    "the code before and after it in turn, three times each, on the same data; load about 1), this round:",
    "",
    "| hot spot | measured | what changed |",
    "|---|---|---|",
    "| the standard JSON encoder: every alarm's details and links, and each row of a batch's document | 12 % of "
    "the process's CPU samples | orjson (sorted keys, as before; migration alerts/0008 re-hashes open alerts, so "
    "the first cycle after it rewrites none) |",
    "| each raised event's uuid made with `uuid4` and parsed back from `RETURNING` | 8 % | made by PostgreSQL "
    "(`gen_random_uuid()`); `RETURNING id, alert_id`; an event reads its uuid when asked |",
    "| every alarm's schedule line (last and next start of each schedule, as text) and the start that is due, "
    "worked out per asset | 10 % | once per distinct schedules and time zone per evaluation "
    "(`RecurrenceCache.memo`): a bad day repeats the same few |",
    "| together | the process's CPU at 50,000: 12.1–13.9 s before, 9.1–10.4 s after | |",
    "| the evaluating process waits while PostgreSQL writes a batch (about half the raise), and computes while it "
    "does not: one core idle either way | 50,000: 16.0–21.3 s without, 13.1–14.6 s with | the conditional alarms' "
    "rule runs on a thread of its own with its own connection, a few batches ahead (alerts/read_ahead.py, from "
    "EVALUATION_READ_AHEAD_FROM = 5,000 assets): it reads nothing the evaluation writes, so its conditions are "
    "the same (tests/test_read_ahead.py) |",
    "| Python's cycle collector: a raise holds a batch's alarms, events and deliveries alive, and each full "
    "collection walked every live object again (4,421 collections, 30 of them full, in a raise of 100,000; 4.6 s "
    "inside the collector, more in the caches it emptied) | 100,000: 35.0 s with it, 24.5 s without, the "
    "process's CPU 18.4 s and 9.7 s; peak memory the same (263 MB) | off for the length of an evaluation, on "
    "again after it (`alerts.evaluation._cyclic_gc_paused`): what a run drops is freed by reference counting |",
    "| the INSERT of a batch of 5,000 alarms: 0.35–0.5 s, of which the executor's 0.19 s (EXPLAIN ANALYZE); the "
    "rest sending and parsing the 7.7 MB document | parsing it as a parameter rather than a literal saved "
    "0.05 s of it, and nothing over a whole raise (measured both ways) | unchanged |",
    "| the next moments table, rewritten twice by each run of the bench with autovacuum off: 4.6 million dead rows, "
    "315 MB for 160,000 live ones | raise and floor both slowed, differently from run to run | the bench vacuums "
    "it with the alerts after each run (15 MB) |",
    "",
    "The round before (N = 10,000; `BENCH_PROFILE=file BENCH_STATEMENTS=1 python -m bench.raising measure 10000`; "
    "profiled times are inflated by the profiler; load 7–10):",
    "",
    "| hot spot | measured | what changed |",
    "|---|---|---|",
    "| `= ANY(%s)` with the driver's smallint[] (or integer[]) against a bigint column: a cross-type comparison "
    "PostgreSQL cannot hash, so a filter (not an index condition) compared each row with every id in turn; the "
    "next moments' read of the open alarms of 5,000 assets scanned 10,000 alerts × 5,000 ids | 0.52–0.64 s per "
    "5,000 assets (1.5 s per 10,000) | arrays cast to the column's type (`::bigint[]`): 0.08–0.17 s for both |",
    "| lists adapted value by value by the driver (`_dump_list`), and fingerprints sent as `IN (%s, …)` in the "
    "flapping check | 1.0 s profiled for 24 lists | array text built in one join (`int_array`, `text_array`); "
    "the flapping check by `= ANY` |",
    "| every instance built after a write read `connection.alias` (a thread-local) | 20,000 reads, 1.0 s profiled "
    "| read once per batch |",
    "| the outbox chose each channel's events in its own pass over every event (7 channels) | 1.2 s profiled, "
    "140,000 attribute reads | one pass per answer (grouped or not, PSA or not) |",
    "| the checklist's moments turned into text (`isoformat`) 60,000 times | 0.45 s profiled | cached: the same "
    "few starts repeat |",
    "| beat's idle cycle: the stale-checklist check read every open alarm's details (JSON) | 0.13 s per 10,000 "
    "open alarms | the silent appliances first (none: no alarm read) |",
    "| the URLconf imported by the first alarm's link | 2.1 s profiled, once per process | warmed up before "
    "timing (a worker has it loaded) |",
    "| the INSERT of the alerts: one JSON document of 8.2 MB per 5,000 alarms, parsed by PostgreSQL | 0.9 s of "
    "its 2.1 s parsing the document alone; 1.5–2× the floor's INSERT | unchanged |",
    "| writing the next moments: the UPDATE of 10,000 assets' `next_check_at` (every index of the asset table) "
    "| 1.1–2.5 s | unchanged here (the floor now writes them too) |",
    "| the next moments at 50,000 (load 4.3): computing them 6.7 s (the schedules' next starts 6.6 s, dismissals "
    "1.2 s), writing them 5.4 s (3 UPDATEs of `next_check_at`, every index of the asset table): a third of the "
    "raise | unchanged here (`alerts/due.py`, `inventory/due.py`) |",
    "",
    "Two rounds before (N = 10,000, load 7–11):",
    "",
    "| hot spot | measured | what changed |",
    "|---|---|---|",
    "| counting missed starts per alarm (R5.3): 615,562 local→UTC conversions | 6.0 s of 39 s profiled | counted once "
    "per distinct (schedules, time zone, last good backup, due start): 24 in this data |",
    "| id lists sent as `IN (%s, %s, …)`: the driver scans and quotes 10,000 placeholders | 2.0 s profiled "
    "(60,495 regex matches); 1.38 s for one `id IN` of 10,000 | one array parameter (`field__any_of`: `= ANY(%s)`) |",
    "| the checklist query: 8 correlated subqueries per alarming asset | 1.16–1.93 s per 10,000 | newest backup and "
    "newest hot copy each read once (LATERAL): 4 index probes per asset |",
    "| one batch = 1,000 conditions: 10 × (quiet-time read, settings, 5 integration reads, 3 INSERTs) | 0.4 s of "
    "round trips | batches of 5,000 |",
    "| JSON: details and links serialized once each, hashed, sent as one document | 2.3 s profiled (30,020 dumps) | "
    "unchanged (already once per condition) |",
    "",
]


def _verdict(rows) -> list[str]:
    """The targets, met or not, in this run's figures."""
    wall = [r["raise_s"] / r["floor_s"] for r in rows]
    cpu = [(r["cpu_s"] + r["db_cpu_s"]) / r["floor_cpu_s"] for r in rows]
    idle = all(r["idle_s"] <= r["floor_s"] and not r["idle_written"] for r in rows)
    largest = max(rows, key=lambda r: r["n"])
    idles = ", ".join(f"{r['idle_s']:.2f} s" for r in rows)
    return [
        f"In this run: the raise {min(wall):.1f}–{max(wall):.1f}× the floor in wall time, {min(cpu):.1f}–{max(cpu):.1f}× "
        f"in CPU ({'met' if max(wall) <= 3 else 'not met everywhere'}: ≤ 3×); peak memory {largest['peak_mb']:.0f} MB at "
        f"{largest['n']:,}; beat's idle cycle {'at most the floor and writing nothing at every N' if idle else 'NOT under the floor'} "
        f"({idles}).",
    ]


def report(rows):
    lines = [
        "# Benchmark: raising N alarms at once (issue 17)",
        "",
        f"Measured by `make bench` on {datetime.now(UTC):%Y-%m-%d} (PostgreSQL on localhost, 2 cores shared "
        "with other work: the load average is printed beside each figure).",
        "One account, N assets on daily schedules with no backup: one evaluation at the present (a clock set "
        "to NOW) raises N backup alarms through the rules, the reconciler and the outbox (one email delivery "
        "per alarm) and writes each asset's next moment, as beat does. The floor writes the same rows (alerts, "
        "events, deliveries, the assets' next moments) again with one statement per table, in the same run.",
        "",
        "| N | raise (s) | floor (s) | raise / floor | of the raise: next moments (s) | the rules alone (s) "
        "| CPU: raise, process + PostgreSQL (s) | CPU: floor, PostgreSQL (s) | raise / floor in CPU "
        "| peak memory (MB) | idle cycle, beat, N open (s) | full re-evaluation, N open (s) "
        "| rows: alerts / deliveries | load average |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        idle = f"{r['idle_s']:.2f}" + ("" if not r["idle_written"] else " (wrote)")
        lines.append(
            f"| {r['n']:,} | {r['raise_s']:.2f} | {r['floor_s']:.2f} | {r['raise_s'] / r['floor_s']:.1f}× "
            f"| {r['moments_s']:.2f} | {r['rules_s']:.2f} | {r['cpu_s']:.1f} + {r['db_cpu_s']:.1f} "
            f"| {r['floor_cpu_s']:.1f} | {(r['cpu_s'] + r['db_cpu_s']) / r['floor_cpu_s']:.1f}× "
            f"| {r['peak_mb']:.0f} | {idle} "
            f"| {r['full_s']:.2f} | {r['alerts']:,} / {r['deliveries']:,} | {r['load']:.1f} |"
        )
    lines += ["", *_verdict(rows)]
    lines += [
        "",
        "Targets: raise ≤ 3× the floor, ≤ 300 MB at 100,000; the idle cycle ≤ the floor of raising N. "
        "The idle cycle is beat's (`evaluate_due`) a minute after the raise with nothing changed: it reads the "
        "rows due (an index range: none) and writes nothing, not even its Evaluation row. The full "
        "re-evaluation is every rule over every subject at that moment (what \"evaluate now\" runs): raised 0, "
        "resolved 0, every alarm kept. \"The rules alone\" is every rule computing its conditions with nothing "
        "written: the part of the raise that is not the reconciler's. CPU is user and system time, read from "
        "/proc: the evaluating process's (both its threads: the rules read ahead on one, alerts/read_ahead.py) "
        "and every PostgreSQL process's during the raise (both connections, the WAL writer and the rest), every "
        "PostgreSQL process's during the floor. On a loaded machine wall time also counts waiting for a core, "
        "which CPU does not. This PostgreSQL runs without autovacuum, so the bench vacuums what each run "
        "deleted or rewrote (the alerts, events, deliveries and next moments) before the next.",
        "",
        *HOT_SPOTS,
        *BEFORE,
    ]
    text = "\n".join(lines)
    print(text, flush=True)
    RESULTS.write_text(text)


def main(argv):
    if len(argv) > 2 and argv[1] == "build":
        build(int(argv[2]))
        return
    if len(argv) > 2 and argv[1] == "measure":
        print(json.dumps(measure(int(argv[2]))), flush=True)
        return
    sizes = [int(a) for a in argv[1:]] or list(SIZES)
    rows = []
    for n in sizes:
        _child("build", str(n))
        row = json.loads(_child("measure", str(n)).strip().splitlines()[-1])
        print(json.dumps(row), file=sys.stderr, flush=True)
        rows.append(row)
        report(rows)  # after each size: a long run interrupted keeps what it measured


if __name__ == "__main__":
    main(sys.argv)
