"""Compliance history (R18.1): each day, each asset's and SaaS source's state and each
organization's share of protected subjects that were within their threshold at the day's end.

Days are the account's (ReportSettings.time_zone): day D runs from D 00:00 to D+1 00:00 local.
Set-based: three statements per call, whatever the number of assets or days (after one more that
remembers each asset's organization, `ORGANIZATION_ASSETS`) —

1. assets × days: one pass over the account's backups in the range, grouped by asset and local
   day (the newest good backup that ended that day; the day's last try), joined to the grid of
   assets × days; the newest good backup at each day's end is a running maximum over the days
   (window), starting from one index probe per asset for the newest good backup before the
   range. An asset is within its threshold when that backup ended at most N hours before the
   day's end, N being the effective threshold (R4: `thresholds.effective`, the backup rule's own);
2. SaaS sources × days: the day's status (R8.2);
3. organizations × days: the counts of (1) and (2), in one grouped pass over their rows, found
   along the asset index (the account's assets, and those its organizations' history holds:
   `OrganizationAsset`, remembered before (1)) and the SaaS one.

Each is `INSERT … SELECT … ON CONFLICT DO UPDATE … WHERE … IS DISTINCT FROM`: running a day
twice writes the same rows, and rewrites none that did not change (a rerun writes nothing); a
back-fill (`manage.py backfill_compliance`) is the same call over past days. A subject counts
from the first day it is known: created, or its first stored backup or status. The range's
bounds are worked out first and passed as values, so that the plans know how many backups they
read (bench/RESULTS_compliance.md has the figures for 100,000 assets × 30 days).

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
from reports.models import OrganizationAsset, OrganizationDay, ReportSettings, SubjectDay
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

ASSETS = f"""
WITH {DAYS},
thresholds AS (SELECT * FROM unnest(%(orgs)s::bigint[], %(hours)s::int[]) AS t(organization_id, hours)),
subjects AS MATERIALIZED (  -- once per asset, not once per asset and day
    SELECT a.id, a.organization_id, t.hours,
           EXISTS (SELECT 1 FROM {{schedule}} s WHERE s.asset_id = a.id) AS scheduled,
           CASE WHEN a.created_at < %(first_end)s THEN a.created_at  -- known on every day: no need to look further
                ELSE LEAST(a.created_at, (SELECT b.started_at FROM {{backup}} b WHERE b.asset_id = a.id
                                          ORDER BY b.started_at LIMIT 1)) END AS first_seen,
           (SELECT b.finished_at FROM {{backup}} b
            WHERE b.asset_id = a.id AND b.status IN ('success', 'warning') AND b.finished_at < %(range_start)s
            ORDER BY b.finished_at DESC LIMIT 1) AS good_before
    FROM {{asset}} a LEFT JOIN thresholds t ON t.organization_id = a.organization_id
    WHERE a.account_id = %(account)s
),
per_day AS (  -- per asset and local day, one hashed pass over the range's backups: the newest good
              -- backup that ended that day; when the day's last try started, and its last failed and warned ones
    SELECT asset_id, day, max(good_end) AS good_end, max(started) AS last_try,
           max(started) FILTER (WHERE went = 'failed') AS last_failed,
           max(started) FILTER (WHERE went = 'warning') AS last_warning
    FROM (
        SELECT b.asset_id, (b.finished_at AT TIME ZONE %(tz)s)::date AS day, b.finished_at AS good_end,
               NULL::timestamptz AS started, NULL AS went
        FROM {{backup}} b
        WHERE b.account_id = %(account)s AND b.status IN ('success', 'warning')
              AND b.finished_at >= %(range_start)s AND b.finished_at < %(range_end)s
        UNION ALL
        SELECT b.asset_id, (b.started_at AT TIME ZONE %(tz)s)::date, NULL, b.started_at,
               CASE WHEN b.status IN ('failed', 'cancelled') THEN 'failed' WHEN b.status = 'warning' THEN 'warning' END
        FROM {{backup}} b
        WHERE b.account_id = %(account)s AND b.status <> 'running'
              AND b.started_at >= %(range_start)s AND b.started_at < %(range_end)s
    ) AS events
    GROUP BY asset_id, day
),
grid AS (
    SELECT s.id, s.organization_id, s.hours, s.scheduled, d.day, d.day_end,
           CASE p.last_try WHEN p.last_failed THEN 'failed' WHEN p.last_warning THEN 'warning' END AS last_try_went,
           GREATEST(s.good_before, max(p.good_end) OVER (PARTITION BY s.id ORDER BY d.day)) AS last_good
    FROM subjects s JOIN days d ON s.first_seen < d.day_end
    LEFT JOIN per_day p ON p.asset_id = s.id AND p.day = d.day
)
INSERT INTO {{subject_day}} AS old (account_id, organization_id, asset_id, saas_source_id, day, state, last_good_at)
SELECT %(account)s, organization_id, id, NULL, day,
       CASE WHEN NOT scheduled OR hours IS NULL THEN 'none'
            WHEN last_good >= day_end - make_interval(hours => hours) THEN
                 CASE WHEN last_try_went IS NOT NULL THEN 'warning' ELSE 'good' END
            WHEN last_try_went = 'failed' THEN 'failed'
            ELSE 'missed' END,
       last_good
FROM grid
ON CONFLICT (asset_id, day) WHERE asset_id IS NOT NULL DO UPDATE
SET organization_id = EXCLUDED.organization_id, state = EXCLUDED.state, last_good_at = EXCLUDED.last_good_at
WHERE (old.organization_id, old.state, old.last_good_at)
      IS DISTINCT FROM (EXCLUDED.organization_id, EXCLUDED.state, EXCLUDED.last_good_at)
"""

SAAS = f"""
WITH {DAYS},
subjects AS (
    SELECT src.id, src.organization_id, src.kind,
           LEAST(src.created_at, (SELECT min(st.date) FROM {{status}} st WHERE st.source_id = src.id)::timestamp
                 AT TIME ZONE %(tz)s) AS first_seen
    FROM {{source}} src WHERE src.account_id = %(account)s AND src.organization_id IS NOT NULL
)
INSERT INTO {{subject_day}} AS old (account_id, organization_id, asset_id, saas_source_id, day, state, last_good_at)
SELECT %(account)s, s.organization_id, NULL, s.id, d.day,
       CASE st.status WHEN 'Successful' THEN 'good'
                      WHEN 'Partial' THEN CASE WHEN s.kind = 'salesforce' THEN 'good' ELSE 'warning' END
                      WHEN 'Failed' THEN 'failed'
                      ELSE 'missed' END,
       NULL
FROM subjects s JOIN days d ON s.first_seen < d.day_end
LEFT JOIN {{status}} st ON st.source_id = s.id AND st.date = d.day
ON CONFLICT (saas_source_id, day) WHERE saas_source_id IS NOT NULL DO UPDATE
SET organization_id = EXCLUDED.organization_id, state = EXCLUDED.state
WHERE (old.organization_id, old.state) IS DISTINCT FROM (EXCLUDED.organization_id, EXCLUDED.state)
"""

ORGANIZATIONS = f"""
WITH {DAYS},
organizations AS MATERIALIZED (SELECT id FROM {{organization}} WHERE account_id = %(account)s),
assets AS MATERIALIZED (  -- whose days the account's organizations may hold: its assets, and those moved away since
    SELECT id FROM {{asset}} WHERE account_id = %(account)s
    UNION SELECT oa.asset_id FROM {{organization_asset}} oa WHERE oa.organization_id IN (SELECT id FROM organizations)
),
subject_days AS (  -- the range's rows of (1), an index range per asset whatever the statistics say
                   -- (a table just filled may be planned as empty), and of (2), along the SaaS index
    SELECT sd.organization_id, sd.day, sd.state
    FROM assets a CROSS JOIN LATERAL (
        SELECT s.organization_id, s.day, s.state FROM {{subject_day}} s
        WHERE s.asset_id = a.id AND s.day >= %(first)s::date AND s.day <= %(last)s::date
        OFFSET 0  -- kept a subquery: planned per asset, not joined to a table it may think empty
    ) AS sd
    WHERE sd.organization_id IN (SELECT id FROM organizations)
    UNION ALL
    SELECT sd.organization_id, sd.day, sd.state FROM {{subject_day}} sd
    WHERE sd.saas_source_id IS NOT NULL AND sd.organization_id IN (SELECT id FROM organizations)
          AND sd.day >= %(first)s::date AND sd.day <= %(last)s::date
),
counts AS (  -- one pass over those rows, rather than a probe per organization and day
    SELECT organization_id, day,
           count(*) FILTER (WHERE state <> 'none') AS protected,
           count(*) FILTER (WHERE state IN ('good', 'warning')) AS compliant
    FROM subject_days
    GROUP BY 1, 2
)
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


# Each asset's organization, remembered before its days are written, so that the organization's
# grid finds them (SubjectDay.of_organization) after the asset moves on.
ORGANIZATION_ASSETS = """
INSERT INTO {organization_asset} (organization_id, asset_id)
SELECT a.organization_id, a.id FROM {asset} a WHERE a.account_id = %(account)s
ON CONFLICT (organization_id, asset_id) DO NOTHING
"""


def _sql(template: str) -> str:
    return template.format(
        schedule=_t(BackupSchedule), backup=_t(Backup), asset=_t(Asset), subject_day=_t(SubjectDay),
        status=_t(SaasDailyStatus), source=_t(SaasSource), organization=_t(Organization),
        organization_day=_t(OrganizationDay), organization_asset=_t(OrganizationAsset),
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


# For this transaction only: no JIT (compiling costs seconds; the plan is hashes and index probes),
# and room to hash and sort a month of 100,000 assets' days in memory rather than on disk.
SESSION = ("SET LOCAL jit = off", "SET LOCAL work_mem = '256MB'")


def _bounds(cursor, params) -> dict:
    """The range's moments, worked out by the database in the account's zone (as the statements'
    days are) and passed to the statements as values, so that their plans know how many backups
    the range holds."""
    cursor.execute(
        "SELECT %(first)s::timestamp AT TIME ZONE %(tz)s, (%(first)s::timestamp + interval '1 day') AT TIME ZONE %(tz)s,"
        " (%(last)s::timestamp + interval '1 day') AT TIME ZONE %(tz)s", params)
    range_start, first_end, range_end = cursor.fetchone()
    return {"range_start": range_start, "first_end": first_end, "range_end": range_end}


def compute(account, first: date, last: date) -> dict:
    """Write the rows of days `first`..`last` (the account's days, both included); idempotent.
    Answers how many rows each statement wrote.

    A large range (a back-fill) is split into spans of consecutive days computed at once, each
    on a connection of its own, so that PostgreSQL works on every core: a span is the same
    computation as a range (it reads the newest good backup before its first day), so the rows
    are the ones a single pass writes. Those connections commit on their own and do not see
    what the caller has not committed; beat's daily run (one day) stays on the caller's."""
    if last < first or not supported():
        return {"subjects": 0, "saas": 0, "organizations": 0}
    spans = _spans(account, first, last)
    if len(spans) == 1:
        _remember_organizations(account)
        return _compute(account, first, last)
    with ThreadPoolExecutor(max_workers=len(spans)) as pool:
        # Committed before the spans start, so that each span's organizations statement sees them
        # (a pair without days yet only makes a grid look at one asset more).
        pool.submit(_on_own_connection, _remember_organizations, account).result()
        parts = list(pool.map(lambda span: _on_own_connection(_compute, account, *span), spans))
    return {name: sum(part[name] for part in parts) for name in parts[0]}


def _spans(account, first: date, last: date) -> list[tuple[date, date]]:
    """[(first, last)] of each span: one, unless the range holds at least
    COMPLIANCE_PARALLEL_FROM asset-days; then one per core (COMPLIANCE_PARALLEL_SPANS)."""
    days = (last - first).days + 1
    spans = min(days, settings.COMPLIANCE_PARALLEL_SPANS)
    if spans < 2 or days * Asset.objects.filter(account=account).count() < settings.COMPLIANCE_PARALLEL_FROM:
        return [(first, last)]
    bounds = [first + timedelta(days=days * n // spans) for n in range(spans + 1)]
    return [(start, end - timedelta(days=1)) for start, end in itertools.pairwise(bounds)]


def _on_own_connection(work, *args):
    try:
        return work(*args)
    finally:
        connection.close()  # this thread's own connection


def _remember_organizations(account) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_sql(ORGANIZATION_ASSETS), {"account": account.pk})


def _compute(account, first: date, last: date) -> dict:
    zone = ReportSettings.for_account(account).time_zone
    orgs, hours = _checked_hours(account)
    params = {
        "account": account.pk, "tz": zone, "first": datetime.combine(first, datetime.min.time()),
        "last": datetime.combine(last, datetime.min.time()), "orgs": orgs, "hours": hours,
        "day_count": (last - first).days + 1,
    }
    written = {}
    with transaction.atomic(), connection.cursor() as cursor:
        for setting in SESSION:
            cursor.execute(setting)
        params.update(_bounds(cursor, params))
        for name, template in (("subjects", ASSETS), ("saas", SAAS), ("organizations", ORGANIZATIONS)):
            cursor.execute(_sql(template), params)
            written[name] = cursor.rowcount
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
