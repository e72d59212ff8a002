"""R18.1: compliance history — a day's row per asset, SaaS source and organization, in the
account's time zone, computed set-wise, idempotent, back-fillable, checked against a history
worked out by hand."""

from datetime import UTC, date, datetime, timedelta
from itertools import count

import pytest
from django.core.management import call_command

from inventory.models import Asset, Backup, SaasDailyStatus, SaasSource
from reports import compliance
from reports.models import OrganizationDay, ReportSettings, SubjectMonth, subject_days
from tests.conftest import api_client, make_appliance, make_asset
from thresholds.models import CustomThreshold, GlobalThreshold, ThresholdAssignment

pytestmark = pytest.mark.django_db

FIRST, LAST = date(2026, 10, 28), date(2026, 11, 1)
DAYS = [FIRST + timedelta(days=n) for n in range(5)]
_ids = count(1)


def at(day, hour, minute=0):
    """A moment in UTC; Berlin is UTC+1 on these days, so its day D ends at D 23:00 UTC."""
    return datetime(2026, day[0], day[1], hour, minute, tzinfo=UTC)


def backup(asset, finished, status="success", started=None):
    Backup.objects.create(
        account=asset.account, asset=asset, external_id=f"b{next(_ids)}", status=status,
        started_at=started or finished - timedelta(hours=1), finished_at=finished,
    )


@pytest.fixture
def history(cast):
    """The fixed history; the expected figures are worked out in each line's comment."""
    account = cast.account_a
    ReportSettings.objects.create(account=account, time_zone="Europe/Berlin")
    GlobalThreshold.objects.create(account=account, backups_hours=24)
    custom = CustomThreshold.objects.create(account=account, name="Lenient", backups_hours=48)
    ThresholdAssignment.objects.create(threshold=custom, organization=cast.org_a2)
    acme = make_appliance(account, cast.org_a1, "acme-1")
    birch = make_appliance(account, cast.org_a2, "birch-1")

    steady = make_asset(acme, "steady")  # a good backup at 22:30 UTC every day: good × 5
    for day in range(27, 32):
        backup(steady, at((10, day), 22, 30))
    backup(steady, at((11, 1), 22, 30))

    flaky = make_asset(acme, "flaky")  # failed, failed, missed, good, warning
    backup(flaky, at((10, 27), 22, 30))
    backup(flaky, at((10, 28), 22, 10), "failed", at((10, 28), 22))
    backup(flaky, at((10, 29), 22, 10), "failed", at((10, 29), 22))
    backup(flaky, at((10, 31), 22, 30))
    backup(flaky, at((11, 1), 22, 30), "warning")

    unscheduled = make_asset(acme, "unscheduled", rrule=None)  # none × 5: not counted
    backup(unscheduled, at((10, 20), 22))

    # Known from 10-28 (its first backup). 10-28: good (22:45 UTC is 23:45 in Berlin, the same
    # day). 10-29: missed (the next one started at 00:10 Berlin time on 10-30). 10-30: good.
    # 10-31, 11-01: missed.
    late = make_asset(acme, "late")
    backup(late, at((10, 28), 22, 45), started=at((10, 28), 21, 45))
    backup(late, at((10, 29), 23, 30), started=at((10, 29), 23, 10))

    newcomer = make_asset(acme, "newcomer")  # first backup 10-31: no row before; good, good
    backup(newcomer, at((10, 31), 22, 30))
    backup(newcomer, at((11, 1), 22, 30))

    lenient = make_asset(birch, "lenient")  # 48 h: warning, good, good, missed, missed
    backup(lenient, at((10, 27), 22, 30))
    backup(lenient, at((10, 28), 22, 10), "failed", at((10, 28), 22))
    backup(lenient, at((10, 29), 22, 30))

    tenant = SaasSource.objects.create(account=account, organization=cast.org_a2, kind="m365", name="T", external_id="t")
    for day, status in ((28, "Successful"), (29, "Partial"), (30, "Failed")):  # good, warning, failed,
        SaasDailyStatus.objects.create(account=account, source=tenant, date=date(2026, 10, day), status=status)
    SaasDailyStatus.objects.create(account=account, source=tenant, date=date(2026, 11, 1), status="Successful")
    # … missed (no status on 10-31), good.
    SaasSource.objects.create(account=account, kind="gws", name="Unmapped", external_id="u")  # no organization: no rows

    other = make_asset(make_appliance(cast.account_b, cast.org_b1, "b-1"), "elsewhere")
    backup(other, at((10, 30), 22))
    return {"steady": steady, "flaky": flaky, "unscheduled": unscheduled, "late": late, "newcomer": newcomer,
            "lenient": lenient, "tenant": tenant}


EXPECTED_STATES = {
    "steady": ["good"] * 5,
    "flaky": ["failed", "failed", "missed", "good", "warning"],
    "unscheduled": ["none"] * 5,
    "late": ["good", "missed", "good", "missed", "missed"],
    "newcomer": [None, None, None, "good", "good"],
    "lenient": ["warning", "good", "good", "missed", "missed"],
    "tenant": ["good", "warning", "failed", "missed", "good"],
}
EXPECTED_ORGANIZATIONS = {  # (protected, compliant) per day
    "Acme": [(3, 2), (3, 1), (3, 2), (4, 3), (4, 3)],
    "Birch": [(2, 2), (2, 2), (2, 1), (2, 0), (2, 1)],
}


def states(subjects):
    found = {}
    for name, subject in subjects.items():
        field = "saas_source" if isinstance(subject, SaasSource) else "asset"
        rows = {day: state for month in SubjectMonth.objects.filter(**{field: subject})
                for day, state in month.days(FIRST, LAST)}
        found[name] = [rows.get(day) for day in DAYS]
    return found


def organizations(cast):
    found = {}
    for organization in (cast.org_a1, cast.org_a2):
        rows = {row.day: row for row in OrganizationDay.objects.filter(organization=organization)}
        found[organization.name] = [(rows[day].protected, rows[day].compliant) for day in DAYS]
    return found


def test_r18_1_rows_for_a_fixed_history_match_the_hand_computed_figures(cast, history):
    compliance.compute(cast.account_a, FIRST, LAST)

    assert states(history) == EXPECTED_STATES
    assert organizations(cast) == EXPECTED_ORGANIZATIONS
    acme_day = OrganizationDay.objects.get(organization=cast.org_a1, day=date(2026, 10, 29))
    assert acme_day.ratio == pytest.approx(1 / 3)
    assert not SubjectMonth.objects.filter(account=cast.account_b).exists()  # another account's: untouched
    assert not SubjectMonth.objects.filter(saas_source__isnull=False, saas_source__organization__isnull=True).exists()
    # A month a row, a letter a day from the 1st: 10-28 … 10-31 in October's, 11-01 in November's.
    october = SubjectMonth.objects.get(asset=history["flaky"], month=date(2026, 10, 1))
    assert october.states == "-" * 27 + "ffmg"
    assert SubjectMonth.objects.get(asset=history["flaky"], month=date(2026, 11, 1)).states == "w" + "-" * 29
    assert SubjectMonth.objects.get(asset=history["unscheduled"], month=date(2026, 10, 1)).states == "-" * 27 + "nnnn"


def test_r18_1_computing_twice_writes_the_same_rows(cast, history):
    compliance.compute(cast.account_a, FIRST, LAST)
    before = list(SubjectMonth.objects.order_by("pk").values_list("pk", "month", "states"))
    compliance.compute(cast.account_a, FIRST, LAST)
    assert list(SubjectMonth.objects.order_by("pk").values_list("pk", "month", "states")) == before
    assert organizations(cast) == EXPECTED_ORGANIZATIONS
    assert OrganizationDay.objects.filter(account=cast.account_a).count() == 2 * 5


def test_r18_1_a_threshold_change_recomputed_changes_the_rows(cast, history):
    """The threshold is the organization's effective one (R4): the backup rule's own."""
    compliance.compute(cast.account_a, FIRST, LAST)
    ThresholdAssignment.objects.filter(organization=cast.org_a2).delete()  # Birch falls back to 24 h
    compliance.compute(cast.account_a, FIRST, LAST)
    assert states({"lenient": history["lenient"]}) == {"lenient": ["failed", "good", "missed", "missed", "missed"]}
    GlobalThreshold.objects.filter(account=cast.account_a).update(backups_enabled=False)  # R5.2
    compliance.compute(cast.account_a, FIRST, LAST)
    assert {name: set(days) for name, days in states(history).items() if name != "tenant"} == {
        "steady": {"none"}, "flaky": {"none"}, "unscheduled": {"none"}, "late": {"none"}, "newcomer": {None, "none"},
        "lenient": {"none"}}
    assert organizations(cast)["Acme"] == [(0, 0)] * 5


def test_r18_1_beat_computes_yesterday_in_the_accounts_zone_once(cast, history):
    # 00:30 on 11-02 in Berlin is still 11-01 in UTC: beat computes Berlin's 11-01.
    now = at((11, 1), 23, 30)
    ReportSettings.objects.filter(account=cast.account_a).update(compliance_through=date(2026, 10, 31))
    assert compliance.compute_yesterday(cast.account_a, now) == [LAST]
    assert compliance.compute_yesterday(cast.account_a, now + timedelta(minutes=30)) == []
    assert {(row.month, row.states) for row in SubjectMonth.objects.filter(asset=history["flaky"])} == {
        (date(2026, 11, 1), "w" + "-" * 29)}
    assert not SubjectMonth.objects.filter(account=cast.account_a, month=date(2026, 10, 1)).exists()
    assert ReportSettings.objects.get(account=cast.account_a).compliance_through == LAST
    # An hour earlier it was 11-01 in Berlin already, but 10-31 was the last full day: nothing new.
    ReportSettings.objects.filter(account=cast.account_a).update(compliance_through=date(2026, 10, 31))
    assert compliance.compute_yesterday(cast.account_a, now - timedelta(hours=1)) == []


def test_r18_1_backfill_command_fills_past_days_from_stored_backups(cast, history, capsys):
    call_command("backfill_compliance", "--days", "5", "--account", str(cast.account_a.pk), "--today", "2026-11-02")
    assert states(history) == EXPECTED_STATES
    assert organizations(cast) == EXPECTED_ORGANIZATIONS
    out = capsys.readouterr().out
    assert "MSP A" in out and "28 October 2026" in out and "1 November 2026" in out
    assert not OrganizationDay.objects.filter(account=cast.account_b).exists()


def test_r18_1_backfill_command_refuses_bad_input_naming_it(cast):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--days"):
        call_command("backfill_compliance", "--days", "0")
    with pytest.raises(CommandError, match="--account"):
        call_command("backfill_compliance", "--days", "3", "--account", "999999")


def test_r18_1_a_large_range_computed_in_spans_on_their_own_connections_writes_the_same_rows(
        cast, history, transactional_db, settings):
    """A back-fill splits the account's assets into spans computed at once on connections of their
    own (here every range counts as large): the rows are the hand-computed ones, the spans' counts
    add up to each organization's, the spans' sum is the total."""
    settings.COMPLIANCE_PARALLEL_FROM, settings.COMPLIANCE_PARALLEL_SPANS = 1, 2
    spans = compliance._asset_spans(cast.account_a, 5)
    assert len(spans) == 2
    ids = Asset.objects.filter(account=cast.account_a).values_list("pk", flat=True)
    assert all(sum(low <= pk < high for low, high in spans) == 1 for pk in ids)  # each asset in one span
    assert all(any(low <= pk < high for pk in ids) for low, high in spans)  # no span empty

    written = compliance.compute(cast.account_a, FIRST, LAST)

    assert states(history) == EXPECTED_STATES
    assert organizations(cast) == EXPECTED_ORGANIZATIONS
    assert written["subjects"] + written["saas"] == SubjectMonth.objects.filter(account=cast.account_a).count()
    assert written["organizations"] == 2 * 5
    assert compliance.compute(cast.account_a, FIRST, LAST) == {"subjects": 0, "saas": 0, "organizations": 0}


def test_r18_1_a_range_longer_than_a_chunk_is_computed_chunk_by_chunk(cast, history):
    """An asset's days are bits of a 64-bit integer, so a long back-fill is computed in chunks of
    CHUNK_DAYS; here the second chunk starts on 10-30 and reads the good backups before it."""
    first = DAYS[2] - timedelta(days=compliance.CHUNK_DAYS)
    assert compliance._chunks(first, LAST) == [(first, DAYS[1]), (DAYS[2], LAST)]

    compliance.compute(cast.account_a, first, LAST)

    assert states(history) == EXPECTED_STATES
    assert organizations(cast) == EXPECTED_ORGANIZATIONS
    assert OrganizationDay.objects.filter(organization=cast.org_a1).count() == compliance.CHUNK_DAYS + 3
    before = OrganizationDay.objects.get(organization=cast.org_a1, day=FIRST - timedelta(days=1))
    assert (before.protected, before.compliant) == (2, 2)  # steady and flaky, good on 10-27; late not known yet


def test_r18_1_r18_2_an_asset_moved_to_another_organization_keeps_its_earlier_days_in_the_first(cast, history):
    """The days computed before the move stay the first organization's, in its counts and in its
    grid (R18.2), though the asset is no longer one of its own; the days after are the new one's."""
    steady = history["steady"]
    compliance.compute(cast.account_a, FIRST, DAYS[2])
    Asset.objects.filter(pk=steady.pk).update(organization=cast.org_a2)
    compliance.compute(cast.account_a, DAYS[3], LAST)

    assert organizations(cast) == {"Acme": EXPECTED_ORGANIZATIONS["Acme"][:3] + [(3, 2), (3, 2)],
                                   "Birch": EXPECTED_ORGANIZATIONS["Birch"][:3] + [(3, 1), (3, 2)]}
    api = api_client(cast.monitor_a)

    def grid_days(organization):
        answer = api.get(f"/api/v1/reports/compliance/?organization={organization.pk}&from={FIRST}&to={LAST}")
        assert answer.status_code == 200
        [row] = [s for s in answer.json()["subjects"] if s["kind"] == "asset" and s["id"] == steady.pk]
        return [(d["day"], d["state"]) for d in row["days"]]

    assert grid_days(cast.org_a1) == [(str(day), "good") for day in DAYS[:3]]
    assert grid_days(cast.org_a2) == [(str(day), "good") for day in DAYS[3:]]
    # Computed again after the move, every day is the new organization's.
    compliance.compute(cast.account_a, FIRST, LAST)
    assert grid_days(cast.org_a2) == [(str(day), "good") for day in DAYS]
    assert organizations(cast)["Acme"] == [(2, 1), (2, 0), (2, 1), (3, 2), (3, 2)]
    first_grid = api.get(f"/api/v1/reports/compliance/?organization={cast.org_a1.pk}&from={FIRST}&to={LAST}").json()
    assert steady.pk not in [s["id"] for s in first_grid["subjects"] if s["kind"] == "asset"]  # a day is in one history


def test_r18_1_a_saas_source_moved_to_another_organization_keeps_its_earlier_days_in_the_first(cast, history):
    tenant = history["tenant"]
    compliance.compute(cast.account_a, FIRST, DAYS[1])
    SaasSource.objects.filter(pk=tenant.pk).update(organization=cast.org_a1)
    compliance.compute(cast.account_a, DAYS[2], LAST)

    def days_in(organization):
        return [(row.day, row.state) for row in subject_days(organization, FIRST, LAST) if row.id == tenant.pk
                and row.kind == "saas_source"]

    expected = list(zip(DAYS, EXPECTED_STATES["tenant"], strict=True))
    assert days_in(cast.org_a2) == expected[:2]
    assert days_in(cast.org_a1) == expected[2:]
    assert [protected for protected, _ in organizations(cast)["Birch"]] == [2, 2, 1, 1, 1]
    compliance.compute(cast.account_a, FIRST, LAST)
    assert days_in(cast.org_a1) == expected
    assert days_in(cast.org_a2) == []



def test_r18_1_the_upgrade_moves_the_days_written_before_it_into_months(cast, history):
    """Migration reports/0003 turns the rows a day that earlier versions wrote into a row a month,
    in the organization each day was written for; a day not written is '-'."""
    import importlib

    from django.db import connection

    steady, source = history["steady"], history["tenant"]
    rows = [(steady.pk, None, cast.org_a1.pk, date(2026, 10, 30), "good"),
            (steady.pk, None, cast.org_a1.pk, date(2026, 10, 31), "failed"),
            (steady.pk, None, cast.org_a2.pk, date(2026, 11, 1), "missed"),  # moved on 11-01
            (None, source.pk, cast.org_a2.pk, date(2026, 10, 1), "warning")]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE reports_subjectday (account_id bigint, organization_id bigint,"
                       " asset_id bigint, saas_source_id bigint, day date, state varchar(8))")
        for asset_id, source_id, organization_id, day, state in rows:
            cursor.execute("INSERT INTO reports_subjectday VALUES (%s, %s, %s, %s, %s, %s)",
                           [cast.account_a.pk, organization_id, asset_id, source_id, day, state])
        cursor.execute(importlib.import_module("reports.migrations.0003_compliance_months").CONVERT)
        cursor.execute("DROP TABLE reports_subjectday")

    months = {(row.asset_id, row.saas_source_id, row.organization_id, row.month): row.states
              for row in SubjectMonth.objects.all()}
    assert months == {
        (steady.pk, None, cast.org_a1.pk, date(2026, 10, 1)): "-" * 29 + "gf",
        (steady.pk, None, cast.org_a2.pk, date(2026, 11, 1)): "m" + "-" * 29,
        (None, source.pk, cast.org_a2.pk, date(2026, 10, 1)): "w" + "-" * 30,
    }
    assert SubjectMonth.objects.get(asset=steady, month=date(2026, 10, 1)).account_id == cast.account_a.pk


def test_r18_2_the_worst_assets_count_the_last_30_days_across_two_months(cast):
    """The overview reads the window's letters from two month rows: a day just outside the 30
    days is not counted, the first and the last day are; another account's asset is not shown."""
    from types import SimpleNamespace

    from overview.figures import worst_assets
    from tenancy.pages import Member
    from tests.conftest import record_day

    today = date(2026, 11, 15)
    box = make_appliance(cast.account_a, cast.org_a1, "acme-1")
    shaky, steady = make_asset(box, "shaky"), make_asset(box, "steady")
    record_day(shaky, today - timedelta(days=30), "failed")  # 10-16: outside the window
    record_day(shaky, today - timedelta(days=29), "missed")  # 10-17: the window's first day
    record_day(shaky, today - timedelta(days=1), "good")
    record_day(shaky, today, "failed")
    record_day(steady, today - timedelta(days=29), "good")
    record_day(steady, today, "none")
    elsewhere = make_asset(make_appliance(cast.account_b, cast.org_b1, "b-1"), "elsewhere")
    record_day(elsewhere, today, "failed")

    worst = worst_assets(Member(SimpleNamespace(user=cast.monitor_a)), today)

    assert [(row["name"], row["organization"], row["bad"], row["counted"]) for row in worst] == [("shaky", "Acme", 2, 3)]
