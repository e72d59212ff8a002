"""Benchmark of the compliance history (R18.1): 100,000 assets × 30 days, target ≤ 30 s.

    python -m bench.compliance    # builds its own account, computes, writes bench/RESULTS_compliance.md

The data: one account, 100 organizations, 1,000 appliances, 100,000 assets on a daily schedule,
each with 35 days of daily backups (93 % success, 3 % warning, 3 % failed, 1 % none that day),
plus 1,000 SaaS sources with a status a day: 3.5 million backups, the backups written by one
INSERT … SELECT in the database. A database that already holds the same data set (same
parameters, recorded in the table `bench_data_set`) is reused: only the computed rows are removed
(BENCH_COMPLIANCE_REBUILD=1 builds it again). The computation is `reports.compliance.compute`
over the 30 days before 2026-11-02, in the account's zone (Europe/Berlin); it runs twice (the
second finds every row unchanged and writes none), and the rows are counted against what they
must be (subjects × months, holding assets × days; organizations × days). Besides the wall time
it reports the CPU time of the database's process for each run, which the load of other work on
the machine changes less.
"""

import os
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "uniview.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from bench.rows import copy_rows, database_cpu, next_ids  # noqa: E402
from inventory.models import Appliance, Asset, Backup, BackupSchedule, SaasDailyStatus, SaasSource  # noqa: E402
from reports import compliance  # noqa: E402
from reports.models import LETTERS, OrganizationDay, ReportSettings, SubjectMonth  # noqa: E402
from tenancy.accounts import create_account  # noqa: E402
from tenancy.models import Account, Organization  # noqa: E402
from thresholds.models import GlobalThreshold  # noqa: E402

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
LAST = date(2026, 11, 1)
DAYS = 30
NAME = "Bench compliance"
ASSETS = int(os.environ.get("BENCH_COMPLIANCE_ASSETS", "100000"))  # a smaller run to try the bench
ORGANIZATIONS, APPLIANCES, SOURCES = 100, 1000, 1000
TARGET_SECONDS = 30.0
RESULTS = Path(__file__).with_name("RESULTS_compliance.md")


FINGERPRINT = f"assets={ASSETS} organizations={ORGANIZATIONS} appliances={APPLIANCES} sources={SOURCES} days={DAYS} seed=18 v2"


def _fingerprints(cursor):
    """A table of the bench's own (not the project's): which data set the database holds, and how
    long it took to build, so that a rerun reuses it instead of building it again."""
    cursor.execute("CREATE TABLE IF NOT EXISTS bench_data_set (name text PRIMARY KEY, fingerprint text NOT NULL, "
                   "built_seconds float NOT NULL, backups bigint NOT NULL)")


def _reusable():
    """The account and its data set's figures when the database holds this very data set, else None."""
    account = Account.objects.filter(name=NAME).first()
    if account is None:
        return None
    with connection.cursor() as cursor:
        _fingerprints(cursor)
        cursor.execute("SELECT fingerprint, built_seconds, backups FROM bench_data_set WHERE name = %s", [NAME])
        row = cursor.fetchone()
    if row is None or row[0] != FINGERPRINT:
        return None
    if Asset.objects.filter(account=account).count() != ASSETS:
        return None
    return account, row[1], row[2]


def _emptied(account, everything):
    """The account's computed rows removed (and, to build again, everything the last run left)."""
    models = (SubjectMonth, OrganizationDay)
    if everything:
        models += (SaasDailyStatus, SaasSource, Backup, BackupSchedule, Asset, Appliance)
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE account_id = %s", [account.pk])
        _fingerprints(cursor)
        if everything:
            cursor.execute("DELETE FROM bench_data_set WHERE name = %s", [NAME])
    if everything:
        GlobalThreshold.objects.filter(account=account).delete()
        ReportSettings.objects.filter(account=account).delete()
        Organization.objects.filter(account=account).delete()
    ReportSettings.objects.filter(account=account).update(compliance_through=None)


# The backups, written by the database itself (a Python loop sending 3.5 million rows through COPY
# took a quarter of an hour): per asset and day, one roll decides 1 % nothing, then 93 % success,
# 3 % warning, 3 % failed; the start is 21:00 UTC less up to two hours, the run 10 to 90 minutes;
# stored in the order they arrive, day by day.
BACKUPS = """
INSERT INTO {backup} (account_id, asset_id, external_id, type, status, started_at, finished_at, size_bytes, error)
SELECT %(account)s, id, 'b' || id || '-' || day, 'incremental',
       CASE WHEN roll < 0.94 THEN 'success' WHEN roll < 0.97 THEN 'warning' ELSE 'failed' END,
       started, started + (10 + floor(random() * 81)) * interval '1 minute', 0, ''
FROM (SELECT a.id, day, random() AS roll,
             timestamptz '2026-11-01 21:00+00' - day * interval '1 day' - floor(random() * 121) * interval '1 minute'
                 AS started
      FROM {asset} a CROSS JOIN generate_series(0, %(days)s - 1) AS day
      WHERE a.account_id = %(account)s ORDER BY day DESC, a.id) AS rolled  -- as they arrive: day by day
WHERE roll >= 0.01
"""


def _generate(account, rng):
    orgs = Organization.objects.bulk_create(
        [Organization(account=account, name=f"Customer {n}") for n in range(ORGANIZATIONS)])
    appliances = Appliance.objects.bulk_create([
        Appliance(account=account, organization=orgs[n % ORGANIZATIONS], external_id=f"c-{n}", name=f"c-{n}",
                  version="10.8.2", timezone="UTC", last_contact_at=NOW) for n in range(APPLIANCES)])
    GlobalThreshold.objects.create(account=account, backups_hours=24)
    ReportSettings.objects.create(account=account, time_zone="Europe/Berlin")
    assets = [(asset_id, appliances[n % APPLIANCES]) for n, asset_id in enumerate(next_ids(Asset, ASSETS))]
    created = NOW - timedelta(days=60)
    copy_rows(Asset, ["id", "account_id", "appliance_id", "organization_id", "external_id", "name", "type", "hot_copy",
                  "created_at", "updated_at"],
          ((a, account.pk, ap.pk, ap.organization_id, f"a{a}", f"a{a}", "vmware", False, created, created) for a, ap in assets))
    copy_rows(BackupSchedule, ["account_id", "asset_id", "name", "rrule", "dtstart"],
          ((account.pk, a, "Daily", "FREQ=DAILY;BYHOUR=22;BYMINUTE=0", "2024-01-01T22:00:00") for a, _ in assets))
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.18)")
        cursor.execute(BACKUPS.format(backup=Backup._meta.db_table, asset=Asset._meta.db_table),
                       {"account": account.pk, "days": DAYS + 5})
        written = cursor.rowcount
    sources = SaasSource.objects.bulk_create([
        SaasSource(account=account, organization=orgs[n % ORGANIZATIONS], kind="m365", name=f"t{n}",
                   external_id=f"t{n}") for n in range(SOURCES)])
    copy_rows(SaasDailyStatus, ["account_id", "source_id", "date", "status", "services"],
          ((account.pk, s.pk, LAST - timedelta(days=d), rng.choice(["Successful"] * 8 + ["Partial", "Failed"]), "{}")
           for s in sources for d in range(DAYS + 5)))
    return written


def _data_set():
    """The account holding the data set, how long building it took and how many backups it has:
    reused when the database already holds the same data set (BENCH_COMPLIANCE_REBUILD=1 forces a
    build), else built in one transaction (an interrupted build leaves nothing half-made)."""
    found = None if os.environ.get("BENCH_COMPLIANCE_REBUILD") else _reusable()
    if found is not None:
        account, built_seconds, backups = found
        with transaction.atomic():
            _emptied(account, everything=False)
        # Rewritten whole, so that each run writes into indexes as compact as a new table's: after
        # a plain VACUUM their emptied pages are reused only later, and each run left them larger.
        _vacuumed(SubjectMonth, OrganizationDay, full=True)
        return account, built_seconds, backups, True
    started = time.monotonic()
    with transaction.atomic():
        account = Account.objects.filter(name=NAME).first()
        if account is None:
            account = create_account(NAME)
        else:
            _emptied(account, everything=True)
        backups = _generate(account, random.Random(18))
        built_seconds = time.monotonic() - started
        with connection.cursor() as cursor:
            _fingerprints(cursor)
            cursor.execute("INSERT INTO bench_data_set (name, fingerprint, built_seconds, backups) "
                           "VALUES (%s, %s, %s, %s)", [NAME, FINGERPRINT, built_seconds, backups])
    _vacuumed(Asset, BackupSchedule, Backup, SaasSource, SaasDailyStatus, SubjectMonth, OrganizationDay)
    return account, built_seconds, backups, False


def _vacuumed(*models, full=False):
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"VACUUM {'FULL ' if full else ''}ANALYZE {model._meta.db_table}")


def _reads(account) -> dict:
    """Seconds to read what people see from the history, after the statistics are gathered (as
    autovacuum does after a large write): beat's daily run (yesterday computed again), one
    organization's grid of 1,000 assets × 30 days (the API's code) and the overview's worst
    assets of the whole account (an admin's)."""
    from types import SimpleNamespace

    from django.contrib.auth import get_user_model

    from overview.figures import worst_assets
    from reports.api import _subjects
    from tenancy.accounts import add_member
    from tenancy.models import Role
    from tenancy.pages import Member

    _vacuumed(SubjectMonth, OrganizationDay)
    email = "bench-compliance@example.com"
    user = get_user_model().objects.filter(username=email).first() or add_member(account, email, None, Role.ADMIN)
    organization = Organization.objects.filter(account=account).order_by("pk").first()
    first_day = LAST - timedelta(days=DAYS - 1)
    timings = {}
    for name, read in (("daily", lambda: compliance.compute(account, LAST, LAST)),
                       ("grid", lambda: _subjects(organization, first_day, LAST)),
                       ("worst", lambda: worst_assets(Member(SimpleNamespace(user=user)), LAST))):
        started = time.monotonic()
        read()
        timings[name] = time.monotonic() - started
    return timings


def _timed(account, first_day):
    """Wall seconds, database CPU seconds (or None) and the rows each statement wrote."""
    cpu, started = database_cpu(), time.monotonic()
    written = compliance.compute(account, first_day, LAST)
    wall, cpu_after = time.monotonic() - started, database_cpu()
    return wall, (cpu_after - cpu if cpu is not None and cpu_after is not None else None), written


def main():
    account, generated, backups, reused = _data_set()
    first_day = LAST - timedelta(days=DAYS - 1)
    load_before = os.getloadavg()[0]
    first_run, first_cpu, _ = _timed(account, first_day)
    load_during = os.getloadavg()[0]
    second_run, second_cpu, rewritten = _timed(account, first_day)
    reads = _reads(account)
    subject_rows = SubjectMonth.objects.filter(account=account).count()
    org_rows = OrganizationDay.objects.filter(account=account).count()
    months = len({(first_day + timedelta(days=n)).replace(day=1) for n in range(DAYS)})
    expected_subjects = (ASSETS + SOURCES) * months
    letters = _letters(account)
    m = {
        "assets": ASSETS, "backups": backups, "generated": generated, "reused": reused, "first": first_run, "second": second_run,
        "first_cpu": first_cpu, "second_cpu": second_cpu, "rewritten": sum(rewritten.values()),
        "subject_rows": subject_rows, "org_rows": org_rows, "expected_subjects": expected_subjects,
        "subject_days": sum(letters.values()), "expected_days": ASSETS * DAYS,
        "load_before": load_before, "load_during": load_during, "reads": reads,
        "states": {state: letters.get(letter, 0) for state, letter in LETTERS.items() if letters.get(letter)},
    }
    report(m)
    print(RESULTS.read_text())
    if subject_rows != expected_subjects or org_rows != ORGANIZATIONS * DAYS or m["subject_days"] != m["expected_days"]:
        sys.exit("compliance wrote the wrong number of rows: see bench/RESULTS_compliance.md")


def _letters(account) -> dict:
    """How many days of the account's assets hold each letter (the days known: every letter but '-')."""
    letters = list(LETTERS.values())
    sums = ", ".join("coalesce(sum(length(states) - length(replace(states, %s, ''))), 0)" for _ in letters)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sums} FROM {SubjectMonth._meta.db_table} WHERE account_id = %s AND asset_id IS NOT NULL",
                       [*letters, account.pk])
        return dict(zip(letters, cursor.fetchone(), strict=True))


def _cpu(seconds):
    return "not measured" if seconds is None else f"{seconds:.1f} s"


def report(m):
    rate = m["assets"] * DAYS / m["first"]
    verdict = "within" if m["first"] <= TARGET_SECONDS else "OVER"
    states = ", ".join(f"{state} {n:,}" for state, n in sorted(m["states"].items()))
    lines = [
        "# Benchmark: compliance history (R18.1)",
        "",
        f"Measured by `make bench` (`python -m bench.compliance`) on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC "
        f"(PostgreSQL 15 on localhost, 2 cores shared with other work: 1-minute load average "
        f"{m['load_before']:.1f} before, {m['load_during']:.1f} after the first run).",
        f"Data: {m['assets']:,} assets on a daily schedule in {ORGANIZATIONS} organizations, {m['backups']:,} "
        f"backups (35 days), {SOURCES:,} SaaS sources with a status a day; built in {m['generated']:.0f} s"
        f"{' by an earlier run, reused' if m['reused'] else ''}. Days: the {DAYS} days to {LAST:%d %B %Y} in Europe/Berlin.",
        "",
        "| figure | measured | floor |",
        "|---|---|---|",
        f"| {m['assets']:,} assets × {DAYS} days, first run (insert) | {m['first']:.1f} s ({verdict} the target) "
        f"| ≤ {TARGET_SECONDS:.0f} s |",
        f"| the same again (every row unchanged: {m['rewritten']:,} rewritten) | {m['second']:.1f} s "
        f"| ≤ {TARGET_SECONDS:.0f} s |",
        f"| CPU of PostgreSQL, first run / again | {_cpu(m['first_cpu'])} / {_cpu(m['second_cpu'])} | |",
        f"| asset-days per second (first run) | {rate:,.0f}/s | {100_000 * DAYS / TARGET_SECONDS:,.0f}/s |",
        f"| subject rows written (a month each) | {m['subject_rows']:,} (expected {m['expected_subjects']:,}) | |",
        f"| asset-days they hold | {m['subject_days']:,} (expected {m['expected_days']:,}) | |",
        f"| organization rows written | {m['org_rows']:,} (expected {ORGANIZATIONS * DAYS:,}) | |",
        f"| asset-day states | {states} | |",
        f"| beat's daily run: one day of {m['assets']:,} assets (computed again) | {m['reads']['daily']:.1f} s | |",
        f"| one organization's grid, {m['assets'] // ORGANIZATIONS:,} assets × {DAYS} days (the API's) "
        f"| {m['reads']['grid']:.2f} s | |",
        f"| the overview's worst assets of all {m['assets']:,} | {m['reads']['worst']:.2f} s | |",
        "",
        "Three statements, whatever the number of assets (reports/compliance.py): assets × days, SaaS",
        "sources × days, then organizations × days from the counts the first two answer. An asset's",
        "days are bits of 64-bit integers: one pass over the range's good backups ORs the days each",
        "covers (from its own to the last that ends within the threshold after it), one sorted pass",
        "over the range's tries finds each day's last; each month's letters are then a bit test a day,",
        "and a month of an asset is one row (`reports_subjectmonth`: 100,000 assets × 30 days are",
        "about 200,000 rows, not 3 million). Each statement skips the months that did not change, so",
        f"the second run writes nothing. A range this large is computed in {settings.COMPLIANCE_PARALLEL_SPANS} spans of the",
        "account's assets at once, each on its own connection, so that PostgreSQL works on both cores.",
        "",
        "Where the time went before (a row per asset and day, 2026-12-01): grouping 5.3 million backup",
        "events by asset and day and joining them to the 3 million cells of the grid took 26 s of one",
        "core; counting each day's bits instead, 11.6 s. Writing 3 million rows took 16 s more (27 s as",
        "an upsert, 15.5 s for a rerun that found each row unchanged), writing 200,000 months well under",
        "a second. The first run of that version took 41.3 s, of the bits with rows a day 32.1 s.",
        "Beat's daily run computes one day in one span; block-range indexes on when backups started",
        "and finished (migration inventory/0011) let it read that day's backups only: 4.0 s without",
        "them here, with 35 days of backups kept, and the more days kept the more it would read.",
        "",
    ]
    RESULTS.write_text("\n".join(lines))


if __name__ == "__main__":
    main()
