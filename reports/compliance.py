"""Compliance history (R18.1): each day, each asset's and SaaS source's state and each
organization's share of protected subjects that were within their threshold at the day's end.

Days are the account's (ReportSettings.time_zone): day D runs from D 00:00 to D+1 00:00 local. A
subject's days are kept a month to a row, a letter a day (`SubjectMonth`), in the organization
it belongs to when they are computed. Set-based: three statements per chunk of days, whatever
the number of assets —

1. assets × days: an asset's days are the bits of 64-bit integers, so that nothing is grouped by
   asset and day. One pass over the range's good backups: a backup that finished at f covers
   the days from f's own to the last one that ends by f + N hours, N being the effective
   threshold (R4: `thresholds.effective`, the backup rule's own); the covered days of an asset
   are the OR of its backups'. One sorted pass over the range's tries finds each day's last one,
   and ORs the days whose last try failed, and those whose last try failed or warned. Each
   month's letters are then one bit test a day. A day's number is found by binary search among
   the range's day starts (`width_bucket`), with no time zone arithmetic per backup;
2. SaaS sources × days: the day's status (R8.2);
3. organizations × days: the counts of the days (1) and (2) computed, which each answers.

(1) and (2) upsert their months: a month already written takes the range's days and keeps its
others, and one that does not change is not rewritten (a rerun writes nothing); the same days in
a month of another organization (the subject has moved since) are cleared, so that a day is in
one organization's history only. (3) is an upsert too. A back-fill (`manage.py
backfill_compliance`) is the same call over past days. A subject counts from the first day it is
known: created, or its first stored backup or status. The range's day starts are worked out
first and passed as values, so that the plans know how many backups they read
(bench/RESULTS_compliance.md has the figures for 100,000 assets × 30 days).

States (models.DayState): good — within the threshold and the day's last try (if any) good;
warning — within the threshold but the day's last try failed or warned (SaaS: Partial, except
Salesforce where Partial counts as Successful, as in R8.3); failed — out of the threshold and
the day's last try failed (SaaS: Failed); missed — out of the threshold otherwise (SaaS: no
status that day); none — no backup schedule, or an organization whose threshold does not check
backups (R5.2) or with no threshold at all (R4.1): not counted.
"""

import itertools
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction

from inventory.models import Asset, Backup, BackupSchedule, SaasDailyStatus, SaasSource
from reports.models import OrganizationDay, ReportSettings, SubjectMonth
from tenancy import locks
from tenancy.models import Account, Organization
from thresholds.effective import effective_thresholds

BEAT_CATCH_UP_DAYS = 30  # beat fills at most this many missing days; older ones are a back-fill


def _t(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


DAYS = """
days AS (  -- counted in whole days, so that the plans know how many there are
    SELECT d::date AS day, d AT TIME ZONE %(tz)s AS day_start, (d + interval '1 day') AT TIME ZONE %(tz)s AS day_end
    FROM generate_series(0, %(day_count)s - 1) AS n, LATERAL (SELECT %(first)s::timestamp + n * interval '1 day') AS t(d)
)"""

def _part(month: str) -> tuple[str, str]:
    """SQL of the range's first and last day in `month` (a date column), counted from its 1st."""
    return (f"(GREATEST(%(first)s::date, {month}) - {month} + 1)",
            f"(LEAST(%(last)s::date, ({month} + interval '1 month')::date - 1) - {month} + 1)")


_FROM, _TO = _part("m.month")
MONTHS = f"""
months AS (  -- the months the range touches, and the part of each it holds (its days from the 1st, from and to)
    SELECT m.month, {_FROM} AS part_from, {_TO} AS part_to, (m.month + interval '1 month')::date - m.month AS length
    FROM generate_series(date_trunc('month', %(first)s::timestamp), %(last)s::timestamp, interval '1 month') AS g(t),
         LATERAL (SELECT g.t::date AS month) AS m
)"""


def _upsert(subject: str) -> str:
    """The end of an INSERT of months: a month already written takes the range's days from the
    new one and keeps its others; a month that does not change is not rewritten."""
    start, end = _part("EXCLUDED.month")
    merged = f"overlay(old.states placing substr(EXCLUDED.states, {start}, {end} - {start} + 1) from {start})"
    return f"""
    ON CONFLICT ({subject}, month, organization_id) WHERE {subject} IS NOT NULL DO UPDATE SET states = {merged}
    WHERE old.states IS DISTINCT FROM {merged}"""


def _clear(subject: str) -> str:
    """A statement (in a WITH) that removes the range's days from the months of the computed
    subjects in an organization other than theirs now: computed again, a day moves with them."""
    return f"""
moved AS (
    UPDATE {{subject_month}} m SET states = overlay(m.states placing repeat('-', p.part_to - p.part_from + 1) from p.part_from)
    FROM computed_subjects s, months p
    WHERE m.{subject} = s.id AND m.month = p.month AND m.organization_id <> s.organization_id
          AND substr(m.states, p.part_from, p.part_to - p.part_from + 1) <> repeat('-', p.part_to - p.part_from + 1)
    RETURNING 1
)"""


# What (1) and (2) answer: their counts per organization and day, for (3), and how many rows they
# wrote (those that changed).
WRITTEN = "(SELECT count(*) FROM written) + (SELECT count(*) FROM moved)"

ASSETS = f"""
WITH {MONTHS},
thresholds AS (SELECT * FROM unnest(%(orgs)s::bigint[], %(hours)s::int[]) AS t(organization_id, hours)),
subjects AS MATERIALIZED (  -- the span's assets: their threshold, and the first day each is known
    SELECT a.id, a.organization_id, t.hours IS NOT NULL AND EXISTS (
               SELECT 1 FROM {{schedule}} s WHERE s.asset_id = a.id) AS checked,
           make_interval(hours => t.hours) AS threshold,
           GREATEST(0, width_bucket(
               CASE WHEN a.created_at < %(first_end)s THEN a.created_at  -- known on every day: no need to look further
                    ELSE LEAST(a.created_at, (SELECT b.started_at FROM {{backup}} b WHERE b.asset_id = a.id
                                              ORDER BY b.started_at LIMIT 1)) END, %(starts)s::timestamptz[]) - 1) AS first_day
    FROM {{asset}} a LEFT JOIN thresholds t ON t.organization_id = a.organization_id
    WHERE a.account_id = %(account)s AND a.id >= %(low)s AND a.id < %(high)s
),
last_tries AS (  -- each asset's last try of each day, by sorting the range's tries once
    SELECT DISTINCT ON (b.asset_id, day) b.asset_id, day, b.status
    FROM {{backup}} b, LATERAL (SELECT width_bucket(b.started_at, %(starts)s::timestamptz[]) - 1) AS d(day)
    WHERE b.account_id = %(account)s AND b.status <> 'running' AND b.asset_id >= %(low)s AND b.asset_id < %(high)s
          AND b.started_at >= %(range_start)s AND b.started_at < %(range_end)s
    ORDER BY b.asset_id, day, b.started_at DESC
),
tried AS (  -- per asset, the days whose last try failed, and those whose last try failed or warned
    SELECT asset_id, bit_or(1::bigint << day) FILTER (WHERE status IN ('failed', 'cancelled')) AS failed,
           bit_or(1::bigint << day) FILTER (WHERE status IN ('failed', 'cancelled', 'warning')) AS tried_badly
    FROM last_tries GROUP BY asset_id
),
covered AS (  -- per asset, the days at whose end a good backup was within the threshold: one that
              -- finished at f covers the days from f's own to the last one ending by f + threshold
    SELECT s.id AS asset_id,
           bit_or(CASE WHEN to_day >= from_day THEN (1::bigint << (to_day + 1)) - (1::bigint << from_day) ELSE 0 END) AS days
    FROM subjects s JOIN {{backup}} b ON b.asset_id = s.id,
         LATERAL (SELECT GREATEST(0, width_bucket(b.finished_at, %(starts)s::timestamptz[]) - 1),
                         LEAST(%(day_count)s - 1, width_bucket(b.finished_at + s.threshold, %(starts)s::timestamptz[]) - 2)
                 ) AS r(from_day, to_day)
    WHERE b.account_id = %(account)s AND b.status IN ('success', 'warning') AND b.asset_id >= %(low)s AND b.asset_id < %(high)s
          AND b.finished_at >= %(covered_from)s AND b.finished_at < %(range_end)s AND s.checked
    GROUP BY s.id
),
computed_subjects AS MATERIALIZED (  -- each asset's days, as bits
    SELECT s.id, s.organization_id, s.checked, s.first_day, coalesce(c.days, 0) AS covered,
           coalesce(t.failed, 0) AS failed, coalesce(t.tried_badly, 0) AS tried_badly
    FROM subjects s LEFT JOIN covered c ON c.asset_id = s.id LEFT JOIN tried t ON t.asset_id = s.id
),
written AS (
    INSERT INTO {{subject_month}} AS old (account_id, organization_id, asset_id, saas_source_id, month, states)
    SELECT %(account)s, c.organization_id, c.id, NULL, m.month, repeat('-', m.part_from - 1) || (
        SELECT string_agg(CASE WHEN k < c.first_day THEN '-'
                               WHEN NOT c.checked THEN 'n'
                               WHEN c.covered & (1::bigint << k) <> 0 THEN
                                    CASE WHEN c.tried_badly & (1::bigint << k) <> 0 THEN 'w' ELSE 'g' END
                               WHEN c.failed & (1::bigint << k) <> 0 THEN 'f'
                               ELSE 'm' END, '' ORDER BY day)
        FROM generate_series(m.part_from, m.part_to) AS day, LATERAL (SELECT m.month + day - 1 - %(first)s::date) AS d(k)
    ) || repeat('-', m.length - m.part_to)
    FROM computed_subjects c CROSS JOIN months m
    WHERE m.month + m.part_to - 1 - %(first)s::date >= c.first_day  -- a month the asset is known in
    {_upsert("asset_id")}
    RETURNING 1
),
{_clear("asset_id")}
SELECT c.organization_id, %(first)s::date + k, count(*) FILTER (WHERE c.checked),
       count(*) FILTER (WHERE c.checked AND c.covered & (1::bigint << k) <> 0), {WRITTEN}
FROM computed_subjects c, generate_series(c.first_day, %(day_count)s - 1) AS k
GROUP BY 1, 2
"""

SAAS = f"""
WITH {DAYS}, {MONTHS},
computed_subjects AS (
    SELECT src.id, src.organization_id, src.kind,
           LEAST(src.created_at, (SELECT min(st.date) FROM {{status}} st WHERE st.source_id = src.id)::timestamp
                 AT TIME ZONE %(tz)s) AS first_seen
    FROM {{source}} src WHERE src.account_id = %(account)s AND src.organization_id IS NOT NULL
),
computed AS MATERIALIZED (
    SELECT s.organization_id, s.id, d.day,
           CASE st.status WHEN 'Successful' THEN 'g'
                          WHEN 'Partial' THEN CASE WHEN s.kind = 'salesforce' THEN 'g' ELSE 'w' END
                          WHEN 'Failed' THEN 'f'
                          ELSE 'm' END AS letter
    FROM computed_subjects s JOIN days d ON s.first_seen < d.day_end
    LEFT JOIN {{status}} st ON st.source_id = s.id AND st.date = d.day
),
letters AS (
    SELECT organization_id, id, date_trunc('month', day)::date AS month,
           jsonb_object_agg(extract(day FROM day)::int, letter) AS letters
    FROM computed GROUP BY 1, 2, 3
),
written AS (
    INSERT INTO {{subject_month}} AS old (account_id, organization_id, asset_id, saas_source_id, month, states)
    SELECT %(account)s, l.organization_id, NULL, l.id, l.month,
           (SELECT string_agg(coalesce(l.letters ->> day::text, '-'), '' ORDER BY day) FROM generate_series(1, m.length) AS day)
    FROM letters l JOIN months m ON m.month = l.month
    {_upsert("saas_source_id")}
    RETURNING 1
),
{_clear("saas_source_id")}
SELECT organization_id, day, count(*), count(*) FILTER (WHERE letter IN ('g', 'w')), {WRITTEN}
FROM computed GROUP BY organization_id, day
"""

ORGANIZATIONS = f"""
WITH {DAYS},
counts AS (SELECT * FROM unnest(%(count_organizations)s::bigint[], %(count_days)s::date[], %(protected)s::int[],
                                %(compliant)s::int[]) AS c(organization_id, day, protected, compliant))
INSERT INTO {{organization_day}} AS old (account_id, organization_id, day, protected, compliant, ratio)
SELECT %(account)s, o.id, d.day, coalesce(c.protected, 0), coalesce(c.compliant, 0),
       c.compliant::float / NULLIF(c.protected, 0)
FROM {{organization}} o CROSS JOIN days d
LEFT JOIN counts c ON c.organization_id = o.id AND c.day = d.day
WHERE o.account_id = %(account)s
ON CONFLICT (organization_id, day) DO UPDATE
SET protected = EXCLUDED.protected, compliant = EXCLUDED.compliant, ratio = EXCLUDED.ratio
WHERE (old.protected, old.compliant, old.ratio) IS DISTINCT FROM (EXCLUDED.protected, EXCLUDED.compliant, EXCLUDED.ratio)
"""


def _sql(template: str) -> str:
    return template.format(
        schedule=_t(BackupSchedule), backup=_t(Backup), asset=_t(Asset),
        status=_t(SaasDailyStatus), source=_t(SaasSource), organization=_t(Organization),
        organization_day=_t(OrganizationDay), subject_month=_t(SubjectMonth),
    )


def supported() -> bool:
    """The statements are PostgreSQL's (generate_series, DISTINCT ON, AT TIME ZONE); the embedded
    SQLite default keeps no compliance history."""
    return connection.vendor == "postgresql"


def _checked_hours(account) -> tuple[list[int], list[int]]:
    """Each organization's effective backup threshold in hours (R4), where it checks backups."""
    thresholds = effective_thresholds(account)
    orgs, hours = [], []
    for organization_id in Organization.objects.filter(account=account).values_list("pk", flat=True):
        threshold = thresholds.for_organization(organization_id)
        if threshold is not None and threshold.backups_enabled:
            orgs.append(organization_id)
            hours.append(threshold.backups_hours)
    return orgs, hours


# For this transaction only: no JIT (compiling costs seconds; the plan is hashes, sorts and index
# probes), and room to sort a month of 100,000 assets' tries in memory rather than on disk.
SESSION = ("SET LOCAL jit = off", "SET LOCAL work_mem = '256MB'")

# The asset statement keeps an asset's days as the bits of a 64-bit integer: a longer range is
# computed in chunks of at most this many days, one after the other.
CHUNK_DAYS = 62
LAST_ID = 2**63 - 1  # the last span's upper bound: past every asset id
NOTHING = {"subjects": 0, "saas": 0, "organizations": 0}


def compute(account, first: date, last: date) -> dict:
    """Write the rows of days `first`..`last` (the account's days, both included); idempotent.
    Answers how many rows each statement wrote (those that changed).

    Many asset-days (a back-fill) are computed in spans of the account's assets at once, each on
    a connection of its own, so that PostgreSQL works on every core; those connections commit on
    their own. The SaaS sources and the organizations are then written on the caller's
    connection, as is everything of a small range (beat's daily run)."""
    if last < first or not supported():
        return dict(NOTHING)
    written = dict(NOTHING)
    for chunk in _chunks(first, last):
        for name, rows in _compute(account, *chunk).items():
            written[name] += rows
    return written


def _chunks(first: date, last: date) -> list[tuple[date, date]]:
    days = (last - first).days + 1
    return [(first + timedelta(days=start), first + timedelta(days=min(start + CHUNK_DAYS, days) - 1))
            for start in range(0, days, CHUNK_DAYS)]


def _asset_spans(account, days: int) -> list[tuple[int, int]]:
    """[(low, high)] bounds of asset ids, each span about as many assets: one span, unless the
    range holds at least COMPLIANCE_PARALLEL_FROM asset-days; then one per core
    (COMPLIANCE_PARALLEL_SPANS)."""
    assets = Asset.objects.filter(account=account).order_by("pk").values_list("pk", flat=True)
    count = assets.count()
    spans = min(count, settings.COMPLIANCE_PARALLEL_SPANS)
    if spans < 2 or days * count < settings.COMPLIANCE_PARALLEL_FROM:
        return [(0, LAST_ID)]
    cuts = [assets[count * n // spans] for n in range(1, spans)]
    bounds = [0, *cuts, LAST_ID]
    return list(itertools.pairwise(bounds))


def _on_own_connection(work, *args):
    try:
        return work(*args)
    finally:
        connection.close()  # this thread's own connection


def _params(account, first: date, last: date) -> dict:
    zone = ReportSettings.for_account(account).time_zone
    orgs, hours = _checked_hours(account)
    params = {
        "account": account.pk, "tz": zone, "first": datetime.combine(first, datetime.min.time()),
        "last": datetime.combine(last, datetime.min.time()), "orgs": orgs, "hours": hours,
        "day_count": (last - first).days + 1,
    }
    with connection.cursor() as cursor:
        params.update(_bounds(cursor, params))
    params["covered_from"] = params["range_start"] - timedelta(hours=max(hours, default=0))
    return params


def _bounds(cursor, params) -> dict:
    """The range's moments, worked out by the database in the account's zone (as the statements'
    days are) and passed to the statements as values, so that their plans know how many backups
    the range holds: where each day starts (and where the range ends), for `width_bucket`."""
    cursor.execute(
        "SELECT array_agg((%(first)s::timestamp + n * interval '1 day') AT TIME ZONE %(tz)s ORDER BY n)"
        " FROM generate_series(0, %(day_count)s) AS n", params)
    starts = cursor.fetchone()[0]
    return {"starts": starts, "range_start": starts[0], "first_end": starts[1], "range_end": starts[-1]}


def _add(counts: dict, rows) -> None:
    """Counts (protected, compliant) per (organization, day) added up across statements and spans."""
    for key, protected, compliant in rows:
        known = counts.setdefault(key, [0, 0])
        known[0] += protected
        known[1] += compliant


def _run(cursor, template: str, params: dict, counts: dict) -> int:
    """The asset or the SaaS statement: its counts added to `counts`; answers the rows it wrote."""
    for setting in SESSION:
        cursor.execute(setting)
    cursor.execute(_sql(template), params)
    rows = cursor.fetchall()
    _add(counts, (((organization_id, day), protected, compliant) for organization_id, day, protected, compliant, _ in rows))
    return rows[0][4] if rows else 0


def _assets(params: dict, span: tuple[int, int]) -> tuple[dict, int]:
    counts = {}
    with transaction.atomic(), connection.cursor() as cursor:
        written = _run(cursor, ASSETS, {**params, "low": span[0], "high": span[1]}, counts)
    return counts, written


def _compute(account, first: date, last: date) -> dict:
    params = _params(account, first, last)
    spans = _asset_spans(account, params["day_count"])
    counts, written = {}, {}
    if len(spans) == 1:
        counts, written["subjects"] = _assets(params, spans[0])
    else:
        with ThreadPoolExecutor(max_workers=len(spans)) as pool:
            parts = list(pool.map(lambda span: _on_own_connection(_assets, params, span), spans))
        written["subjects"] = sum(rows for _, rows in parts)
        for part, _ in parts:
            _add(counts, ((key, protected, compliant) for key, (protected, compliant) in part.items()))
    with transaction.atomic(), connection.cursor() as cursor:
        written["saas"] = _run(cursor, SAAS, params, counts)
        keys = list(counts)
        cursor.execute(_sql(ORGANIZATIONS), {
            **params, "count_organizations": [key[0] for key in keys], "count_days": [key[1] for key in keys],
            "protected": [counts[key][0] for key in keys], "compliant": [counts[key][1] for key in keys]})
        written["organizations"] = cursor.rowcount
    return written


def local_today(account, now: datetime) -> date:
    zone = ReportSettings.for_account(account).time_zone
    return now.astimezone(ZoneInfo(zone)).date()


def compute_yesterday(account, now: datetime) -> list[date]:
    """Beat, after midnight in the account's zone: the days since the last computed one, up to
    yesterday (at most BEAT_CATCH_UP_DAYS of them). Answers the days written."""
    settings_row = ReportSettings.for_account(account)
    yesterday = local_today(account, now) - timedelta(days=1)
    first = yesterday - timedelta(days=BEAT_CATCH_UP_DAYS - 1)
    if settings_row.compliance_through is not None:
        first = max(first, settings_row.compliance_through + timedelta(days=1))
    if first > yesterday:
        return []
    with transaction.atomic():
        if not locks.try_xact_lock(locks.COMPLIANCE, account.pk):
            return []
        compute(account, first, yesterday)
        ReportSettings.objects.filter(pk=settings_row.pk).update(compliance_through=yesterday)
    return [first + timedelta(days=n) for n in range((yesterday - first).days + 1)]


def compute_all_due(now: datetime) -> int:
    """Every account whose yesterday is not computed yet; answers how many accounts were."""
    done = 0
    for account in Account.objects.order_by("pk"):
        done += bool(compute_yesterday(account, now))
    return done


def backfill(account, days: int, today: date | None = None) -> tuple[date, date]:
    """The last `days` days before today (the account's), recomputed from stored backups."""
    today = today or local_today(account, datetime.now().astimezone())
    last = today - timedelta(days=1)
    first = today - timedelta(days=days)
    with transaction.atomic():
        locks.try_xact_lock(locks.COMPLIANCE, account.pk)
        compute(account, first, last)
        settings_row = ReportSettings.for_account(account)
        if settings_row.compliance_through is None or settings_row.compliance_through < last:
            ReportSettings.objects.filter(pk=settings_row.pk).update(compliance_through=last)
    return first, last
