"""R15.3: a poll that suddenly answers nothing is suspicious; R15.4: a vendor's recent days are re-read.

Real client → fake Datto / Spanning over HTTP on loopback → poller → inventory.
"""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client

from fakes.datto import asset
from fakes.spanning import M365Fake
from integrations.models import Integration
from integrations.pollers import poll
from inventory.models import AzureAsset, SaasDailyStatus
from tests.conftest import NOW, api_client


@pytest.fixture
def datto(datto_fake):
    fake = datto_fake
    fake.clients = [{"id": 1, "name": "Acme"}, {"id": 2, "name": "Birch"}]
    fake.assets = {"1": [asset("vm-1", "web"), asset("vm-2", "db")], "2": [asset("vm-3", "mail"), asset("vm-4", "files")]}
    yield fake


@pytest.fixture
def integration(cast, datto):
    return Integration.objects.create(
        account=cast.account_a, kind="datto", name="Datto", base_url=datto.url + "/v1",
        credentials={"public_key": datto.username, "secret_key": datto.secret},
    )


def names():
    return sorted(AzureAsset.objects.values_list("name", flat=True))


def warnings(integration):
    integration.refresh_from_db()
    return [s["detail"] for s in integration.suspicions()]


def test_r15_3_a_client_list_that_drops_to_zero_keeps_the_assets_until_a_poll_an_hour_later_agrees(
    cast, datto, integration,
):
    assert "failed" not in poll(integration, NOW)
    assert names() == ["db", "files", "mail", "web"]
    datto.clients, datto.assets = [], {}
    summary = poll(integration, NOW + timedelta(minutes=5))
    assert "0 removed, 4 kept" in summary and names() == ["db", "files", "mail", "web"]
    assert warnings(integration) == ["Datto answered no clients; 4 Azure asset(s) kept."]
    body = api_client(cast.superuser_a).get(f"/api/v1/integrations/{integration.pk}/").json()
    assert body["suspicious_empty_poll"] == [{"detail": "Datto answered no clients; 4 Azure asset(s) kept.",
                                              "since": (NOW + timedelta(minutes=5)).isoformat()}]
    page = Client()
    page.force_login(cast.superuser_a)
    html = page.get("/settings/integrations/").content.decode()
    assert 'data-testid="suspicious-poll"' in html and "Datto answered no clients" in html
    assert "2026-11-02 12:05 UTC" in html  # written for a person
    poll(integration, NOW + timedelta(minutes=45))  # agrees, but not an hour after the first
    assert len(names()) == 4
    assert "4 removed" in poll(integration, NOW + timedelta(hours=1, minutes=5))
    assert names() == [] and warnings(integration) == []


def test_r15_3_data_again_clears_the_warning_and_a_new_empty_answer_starts_a_new_hour(cast, datto, integration):
    poll(integration, NOW)
    full = (datto.clients, datto.assets)
    datto.clients, datto.assets = [], {}
    poll(integration, NOW + timedelta(minutes=5))
    datto.clients, datto.assets = full
    poll(integration, NOW + timedelta(minutes=10))
    assert warnings(integration) == [] and len(names()) == 4
    datto.clients, datto.assets = [], {}
    poll(integration, NOW + timedelta(minutes=50))
    poll(integration, NOW + timedelta(hours=1, minutes=10))  # 1 h 5 after the first, 20 min after this one
    assert len(names()) == 4 and warnings(integration)


def test_r15_3_a_client_whose_asset_list_drops_to_zero_is_suspicious_an_asset_less_is_not(
    cast, datto, integration,
):
    poll(integration, NOW)
    datto.assets = {"1": [], "2": [asset("vm-3", "mail")]}  # Acme answers nothing; Birch lost one asset
    poll(integration, NOW + timedelta(minutes=5))
    assert names() == ["db", "mail", "web"]  # Birch's "files" is gone at once; Acme's are kept
    assert warnings(integration) == ["Datto answered no Azure assets for client Acme; 2 kept."]
    poll(integration, NOW + timedelta(hours=2))
    assert names() == ["mail"]


def noon(d: date) -> datetime:
    return datetime.combine(d, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)


def test_r15_4_spanning_re_reads_the_last_two_days_and_updates_them(cast):
    fake = M365Fake().start()
    try:
        integration = Integration.objects.create(
            account=cast.account_a, kind="spanning_m365", name="M365", base_url=fake.url + fake.prefix,
            credentials={"admin_email": fake.username, "api_token": fake.secret},
        )
        today = date(2026, 11, 2)
        for n in (3, 2, 1):
            fake.set_day(today - timedelta(days=n), "Successful")
        early = datetime(2026, 11, 2, 0, 30, tzinfo=UTC)
        assert "failed" not in poll(integration, early)  # yesterday is stored as successful at 00:30
        fake.set_day(today - timedelta(days=1), "Failed")  # … and Spanning publishes its failure at 03:00
        fake.set_day(today - timedelta(days=3), "Partial")  # older days are not read again
        summary = poll(integration, early + timedelta(hours=2, minutes=30))
        assert "1 new or changed" in summary
        stored = dict(SaasDailyStatus.objects.values_list("date", "status"))
        assert stored[today - timedelta(days=1)] == "Failed"
        assert stored[today - timedelta(days=3)] == "Successful"
        assert SaasDailyStatus.objects.filter(date=today - timedelta(days=1)).count() == 1
    finally:
        fake.stop()
