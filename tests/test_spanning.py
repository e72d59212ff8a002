"""Spanning backup alerts (R8) end to end: real client → fake Spanning over HTTP → poller → rule → alerts."""

from datetime import UTC, date, datetime, timedelta

import pytest

from alerts.evaluation import evaluate
from alerts.models import Alert
from integrations.models import Integration
from integrations.pollers import poll
from inventory.models import SaasDailyStatus, SaasSource

DAY1 = date(2026, 10, 20)


def day(n: int) -> date:
    return DAY1 + timedelta(days=n - 1)


def noon(n: int) -> datetime:
    return datetime.combine(day(n), datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)


@pytest.fixture
def m365(m365_fake):
    fake = m365_fake
    yield fake


@pytest.fixture
def salesforce(salesforce_fake):
    fake = salesforce_fake
    yield fake


@pytest.fixture
def google(google_fake):
    fake = google_fake
    yield fake


def integration_for(account, fake, kind):
    creds = {
        "spanning_m365": {"admin_email": fake.username, "api_token": fake.secret},
        "spanning_gws": {"domain": fake.username, "access_token": fake.secret},
        "spanning_salesforce": {"admin_email": fake.username, "api_token": fake.secret},
    }[kind]
    return Integration.objects.create(
        account=account, kind=kind, name=f"Spanning {kind}", base_url=fake.url + fake.prefix, credentials=creds,
    )


def open_alerts(account):
    return {a.details["level"] for a in Alert.objects.filter(account=account, kind__startswith="spanning", state="open")}


def first_poll_and_map(integration, org, now):
    assert "failed" not in poll(integration, now)
    source = SaasSource.objects.get(account=integration.account)
    source.organization = org
    source.save()
    evaluate(integration.account, now)
    return source


# The R8 example table of SPEC.md, one row per day; days without a row get no status.
TABLE = {1: "Successful", 2: "Partial", 3: "Successful", 4: "Successful", 5: "Failed", 7: "Successful", 12: "Successful"}
EXPECTED = {  # the "alert" column, as the open alerts after that day's poll
    1: set(), 2: set(), 3: set(), 4: {"partial"}, 5: {"partial"}, 6: {"partial"},
    7: {"failed"}, 8: {"failed"}, 9: {"failed"}, 10: {"failed"}, 11: {"failed"}, 12: set(),
}


def test_r8_example_table_walked_day_by_day_through_the_client_and_fake_server(cast, m365):
    integration = integration_for(cast.account_a, m365, "spanning_m365")
    m365.set_day(day(1), TABLE[1])
    source = first_poll_and_map(integration, cast.org_a1, noon(1))
    for n in range(1, 13):
        if n in TABLE:
            m365.set_day(day(n), TABLE[n])
        summary = poll(integration, noon(n))
        assert "failed" not in summary, summary
        assert open_alerts(cast.account_a) == EXPECTED[n], f"day {n}"
    partial = Alert.objects.get(subject=f"saas:{source.pk}:partial")
    failed = Alert.objects.get(subject=f"saas:{source.pk}:failed")
    assert partial.raised_at == noon(4) and partial.resolved_reason == "superseded"
    assert failed.raised_at == noon(7) and partial.resolved_at == noon(7)  # R8.5: same moment, same transaction
    assert failed.resolved_at == noon(12) and failed.resolved_reason == "cleared"  # R8.6
    assert SaasDailyStatus.objects.filter(source=source).count() == len(TABLE)


def test_r8_1_an_unmapped_source_raises_nothing(cast, m365):
    integration = integration_for(cast.account_a, m365, "spanning_m365")
    for n in range(1, 6):
        m365.set_day(day(n), "Failed")
        poll(integration, noon(n))
    assert SaasSource.objects.get().organization is None
    assert not Alert.objects.filter(kind="spanning_m365").exists()


def test_r8_1_unmapping_a_source_resolves_its_open_alert(cast, m365):
    integration = integration_for(cast.account_a, m365, "spanning_m365")
    m365.set_day(day(1), "Failed")
    source = first_poll_and_map(integration, cast.org_a1, noon(1))
    for n in (2, 3):
        m365.set_day(day(n), "Failed")
        poll(integration, noon(n))
    assert open_alerts(cast.account_a) == {"failed"}
    source.organization = None
    source.save()
    evaluate(cast.account_a, noon(3) + timedelta(minutes=5))
    assert open_alerts(cast.account_a) == set()
    assert Alert.objects.get(kind="spanning_m365").state == "resolved"


def test_r8_2_a_day_is_stored_with_its_overall_status_and_each_m365_service(cast, m365):
    integration = integration_for(cast.account_a, m365, "spanning_m365")
    m365.set_day(day(1), "Partial", service="TEAMS")
    poll(integration, noon(1))
    status = SaasDailyStatus.objects.get()
    assert status.status == "Partial"
    assert set(status.services) == {"Mail", "Calendar", "Contact", "Drive", "SharePoint", "Teams Channel"}
    assert status.services["Teams Channel"]["status"] == "Partial"
    assert status.services["Mail"]["status"] == "Successful"


def test_r8_2_google_workspace_services_and_user_figures(cast, google):
    integration = integration_for(cast.account_a, google, "spanning_gws")
    google.set_day(day(1), "Failed", service="DOCUMENT")
    poll(integration, noon(1))
    source = SaasSource.objects.get()
    assert (source.kind, source.name, source.users, source.assigned) == ("gws", "example.org", 3, 2)
    status = source.daily_statuses.get()
    assert status.status == "Failed"
    assert set(status.services) == {"Site", "Document", "Mail", "Calendar", "Contact"}


def test_r8_2_m365_license_figures_come_from_the_tenant(cast, m365):
    poll(integration_for(cast.account_a, m365, "spanning_m365"), noon(1))
    source = SaasSource.objects.get()
    assert (source.licenses, source.users, source.assigned, source.license_status) == (50, 42, 40, "paid")
    assert source.name == "contoso.example"


def test_r8_2_r15_4_polls_ask_for_new_days_and_the_last_two_days_again(cast, m365):
    integration = integration_for(cast.account_a, m365, "spanning_m365")
    m365.set_day(day(1), "Successful")
    poll(integration, noon(1))
    poll(integration, noon(1) + timedelta(hours=1))  # same day again: only the last two days
    m365.set_day(day(2), "Successful")
    poll(integration, noon(2))
    summaries = [r.query for r in m365.requests if r.path.endswith("/summary")]
    starts = [datetime.fromtimestamp(int(q["start"]) / 1000, tz=UTC).date() for q in summaries]
    assert starts == [day(1) - timedelta(days=6), day(0), day(1)]
    assert SaasDailyStatus.objects.count() == 2


def test_r8_3_salesforce_ignores_partial_days(cast, salesforce):
    integration = integration_for(cast.account_a, salesforce, "spanning_salesforce")
    org_days = salesforce.backups["00D000000000001"]
    org_days[day(1)] = "Partial"
    first_poll_and_map(integration, cast.org_a1, noon(1))
    for n in range(2, 6):
        org_days[day(n)] = "Partial"
        poll(integration, noon(n))
    assert not Alert.objects.filter(kind="spanning_salesforce").exists()
    for n in range(6, 9):
        org_days[day(n)] = "Failed"
        poll(integration, noon(n))
    alert = Alert.objects.get(kind="spanning_salesforce", state="open")
    assert alert.details["level"] == "failed" and alert.details["since"] == day(6).isoformat()


def test_r8_3_failed_outranks_partial_in_the_window(cast, m365):
    integration = integration_for(cast.account_a, m365, "spanning_m365")
    m365.set_day(day(1), "Failed")
    first_poll_and_map(integration, cast.org_a1, noon(1))
    for n in (2, 3):
        m365.set_day(day(n), "Partial")
        poll(integration, noon(n))
    assert open_alerts(cast.account_a) == {"failed"}  # Partial days never make it a Partial alert


def test_r8_4_a_level_held_for_one_day_raises_nothing(cast, m365):
    integration = integration_for(cast.account_a, m365, "spanning_m365")
    m365.set_day(day(1), "Failed")
    first_poll_and_map(integration, cast.org_a1, noon(1))
    m365.set_day(day(2), "Successful")
    poll(integration, noon(2))
    assert open_alerts(cast.account_a) == set()
    m365.set_day(day(3), "Successful")
    poll(integration, noon(3))
    assert open_alerts(cast.account_a) == {"failed"}  # day 3 is 2 days after day 1


def test_r8_4_persistence_is_measured_on_status_dates_not_on_now(cast, m365):
    integration = integration_for(cast.account_a, m365, "spanning_m365")
    m365.set_day(day(1), "Failed")
    first_poll_and_map(integration, cast.org_a1, noon(1))
    for n in range(2, 6):  # no new status arrives: the newest status date stays day 1
        poll(integration, noon(n))
    assert open_alerts(cast.account_a) == set()


def test_r8_5_one_alert_per_source_failed_supersedes_partial_in_one_transaction(cast, m365):
    integration = integration_for(cast.account_a, m365, "spanning_m365")
    m365.set_day(day(1), "Partial")
    source = first_poll_and_map(integration, cast.org_a1, noon(1))
    for n, status in ((2, "Partial"), (3, "Successful"), (4, "Failed"), (5, "Successful"), (6, "Successful")):
        m365.set_day(day(n), status)
        poll(integration, noon(n))
        assert len(open_alerts(cast.account_a)) <= 1
    partial = Alert.objects.get(subject=f"saas:{source.pk}:partial")
    failed = Alert.objects.get(subject=f"saas:{source.pk}:failed", state="open")
    assert partial.resolved_reason == "superseded" and partial.resolved_at == failed.raised_at == noon(6)
    assert list(partial.events.values_list("type", flat=True)) == ["raised", "resolved"]


def test_r8_6_a_failed_alert_does_not_step_down_to_partial(cast, m365):
    integration = integration_for(cast.account_a, m365, "spanning_m365")
    m365.set_day(day(1), "Failed")
    source = first_poll_and_map(integration, cast.org_a1, noon(1))
    statuses = {2: "Failed", 3: "Failed", 4: "Successful", 5: "Partial", 6: "Successful", 7: "Successful",
                8: "Successful", 9: "Successful", 10: "Successful"}
    for n, status in statuses.items():
        m365.set_day(day(n), status)
        poll(integration, noon(n))
        # Day 10: the Failed days have left the window, the Partial of day 5 has not.
        assert open_alerts(cast.account_a) == ({"failed"} if n >= 3 else set()), f"day {n}"
    assert not Alert.objects.filter(subject=f"saas:{source.pk}:partial").exists()
    for n in (11, 12):
        m365.set_day(day(n), "Successful")
        poll(integration, noon(n))
    assert open_alerts(cast.account_a) == set()  # day 12: 7 days all successful


def test_r8_7_the_alert_carries_organization_domain_module_and_platform_links(cast, m365):
    integration = integration_for(cast.account_a, m365, "spanning_m365")
    integration.options = {"region": "eu"}
    integration.save()
    m365.set_day(day(1), "Failed")
    source = first_poll_and_map(integration, cast.org_a1, noon(1))
    for n in (2, 3):
        m365.set_day(day(n), "Failed")
        poll(integration, noon(n))
    alert = Alert.objects.get(kind="spanning_m365")
    assert alert.links["organization"].endswith(f"/alerts/?organization={cast.org_a1.pk}")
    assert alert.links["domain"].endswith(f"/protect/sources/{source.pk}/")
    assert alert.links["module"] == "https://o365-eu.spanningbackup.com"
    assert alert.links["platform"] == "https://spanning.com"
    assert alert.organization_id == cast.org_a1.pk and alert.group_label == "Acme — Spanning Microsoft 365"


def test_r14_1_a_new_daily_status_is_evaluated_on_arrival(cast, m365):
    integration = integration_for(cast.account_a, m365, "spanning_m365")
    m365.set_day(day(1), "Failed")
    first_poll_and_map(integration, cast.org_a1, noon(1))
    m365.set_day(day(3), "Failed")
    poll(integration, noon(3))  # no separate evaluate() call
    assert open_alerts(cast.account_a) == {"failed"}


def test_r14_2_polling_the_same_day_twice_changes_nothing(cast, m365):
    integration = integration_for(cast.account_a, m365, "spanning_m365")
    m365.set_day(day(1), "Failed")
    first_poll_and_map(integration, cast.org_a1, noon(1))
    for n in (2, 3):
        m365.set_day(day(n), "Failed")
        poll(integration, noon(n))
    before = (SaasDailyStatus.objects.count(), sorted(Alert.objects.values_list("fingerprint", "state")))
    poll(integration, noon(3))
    evaluate(cast.account_a, noon(3))
    assert (SaasDailyStatus.objects.count(), sorted(Alert.objects.values_list("fingerprint", "state"))) == before
    assert before[0] == 3 and len(before[1]) == 1
