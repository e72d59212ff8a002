"""`saas-sources/`, `ingest/saas-status/`, the integrations API for the SaaS kinds, and the Protect pages."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from alerts.models import Alert
from fakes.datto import DattoFake, asset
from fakes.spanning import M365Fake
from integrations.models import Integration
from integrations.saas import poll_saas
from inventory.models import DattoClient, SaasDailyStatus, SaasSource
from tenancy.models import TokenScope
from tests.conftest import api_client

SOURCES = "/api/v1/saas-sources/"
INGEST = "/api/v1/ingest/saas-status/"


@pytest.fixture
def sources(cast):
    return {
        "a1": SaasSource.objects.create(account=cast.account_a, kind="m365", name="contoso.com", external_id="contoso.com",
                                        organization=cast.org_a1, licenses=25, users=20),
        "a2": SaasSource.objects.create(account=cast.account_a, kind="gws", name="birch.org", external_id="birch.org",
                                        organization=cast.org_a2),
        "loose": SaasSource.objects.create(account=cast.account_a, kind="salesforce", name="Loose", external_id="00D1"),
        "b1": SaasSource.objects.create(account=cast.account_b, kind="m365", name="other.com", external_id="other.com",
                                        organization=cast.org_b1),
    }


def failed_days(source, count=3):
    today = timezone.now().date()
    return [{"source": source.pk, "date": (today - timedelta(days=i)).isoformat(), "status": "Failed",
             "services": {"Mail": {"status": "Failed"}}} for i in range(count)]


def test_r1_sources_are_listed_per_account_and_organization_scope(cast, sources):
    names = {row["name"] for row in api_client(cast.monitor_a).get(SOURCES).json()["results"]}
    assert names == {"contoso.com", "birch.org", "Loose"}
    scoped = {row["name"] for row in api_client(cast.scoped_admin_a).get(SOURCES).json()["results"]}
    assert scoped == {"birch.org"}
    assert api_client(cast.superuser_a).get(f"{SOURCES}{sources['b1'].pk}/").status_code == 404


def test_r1_3_only_a_superuser_registers_or_maps_a_source(cast, sources):
    body = {"kind": "m365", "name": "new.com", "external_id": "new.com", "organization": cast.org_a1.pk}
    assert api_client(cast.admin_a).post(SOURCES, body, format="json").status_code == 403
    assert api_client(cast.admin_a).patch(f"{SOURCES}{sources['loose'].pk}/", {"organization": cast.org_a1.pk},
                                          format="json").status_code == 403
    created = api_client(cast.superuser_a).post(SOURCES, body, format="json")
    assert created.status_code == 201 and created.json()["organization"] == cast.org_a1.pk


def test_bad_source_input_is_refused_naming_the_field(cast, sources):
    su = api_client(cast.superuser_a)
    dup = su.post(SOURCES, {"kind": "m365", "name": "x", "external_id": "contoso.com"}, format="json")
    assert dup.status_code == 400 and "external_id" in dup.json()["errors"]
    assert "kind" in su.post(SOURCES, {"kind": "dropbox", "name": "x", "external_id": "x"}, format="json").json()["errors"]
    foreign = su.patch(f"{SOURCES}{sources['loose'].pk}/", {"organization": cast.org_b1.pk}, format="json")
    assert foreign.status_code == 400 and "organization" in foreign.json()["errors"]
    assert su.patch(f"{SOURCES}{sources['a1'].pk}/", {"kind": "gws"}, format="json").status_code == 400
    sources["loose"].refresh_from_db()
    assert sources["loose"].organization is None and SaasSource.objects.get(pk=sources["a1"].pk).kind == "m365"


def test_r8_2_pushed_statuses_are_stored_and_evaluated_on_arrival(cast, sources):
    response = api_client(cast.superuser_a).post(INGEST, failed_days(sources["a1"]), format="json")
    assert response.status_code == 200 and response.json() == {"created": 3, "updated": 0}
    alert = Alert.objects.get(kind="spanning_m365", state="open")  # R14.1: no separate evaluation
    assert alert.details["level"] == "failed" and alert.organization_id == cast.org_a1.pk
    again = api_client(cast.superuser_a).post(INGEST, failed_days(sources["a1"], 1), format="json")
    assert again.json() == {"created": 0, "updated": 1}


def test_r8_1_unmapping_through_the_api_resolves_the_open_alert(cast, sources):
    api_client(cast.superuser_a).post(INGEST, failed_days(sources["a1"]), format="json")
    response = api_client(cast.superuser_a).patch(f"{SOURCES}{sources['a1'].pk}/", {"organization": None}, format="json")
    assert response.status_code == 200
    assert Alert.objects.get(kind="spanning_m365").state == "resolved"


def test_ingest_refuses_bad_rows_and_foreign_sources_storing_nothing(cast, sources):
    su = api_client(cast.superuser_a)
    rows = failed_days(sources["a1"], 2)
    rows[1]["status"] = "Exploded"
    bad = su.post(INGEST, rows, format="json")
    assert bad.status_code == 400 and "status" in bad.json()["errors"]["1"]
    foreign = su.post(INGEST, failed_days(sources["b1"], 1), format="json")
    assert foreign.status_code == 400 and "source" in foreign.json()["errors"]["0"]
    assert su.post(INGEST, {"not": "a list"}, format="json").status_code == 400
    assert not SaasDailyStatus.objects.exists()


def test_ingest_takes_an_ingest_token_but_not_a_read_token(cast, sources):
    rows = failed_days(sources["a1"], 1)
    assert api_client(cast.superuser_a, TokenScope.READ).post(INGEST, rows, format="json").status_code == 403
    assert api_client(cast.superuser_a, TokenScope.INGEST).post(INGEST, rows, format="json").status_code == 200


def test_integrations_for_saas_kinds_need_their_credentials_test_and_sync(cast):
    fake = M365Fake().start()
    try:
        su = api_client(cast.superuser_a)
        missing = su.post("/api/v1/integrations/", {"kind": "spanning_m365", "name": "M365", "credentials": {
            "admin_email": fake.username}}, format="json")
        assert missing.status_code == 400 and "api_token" in str(missing.json()["errors"]["credentials"])
        created = su.post("/api/v1/integrations/", {
            "kind": "spanning_m365", "name": "M365", "base_url": fake.url + "/external",
            "credentials": {"admin_email": fake.username, "api_token": fake.secret}}, format="json")
        assert created.status_code == 201 and fake.secret not in str(created.json())
        pk = created.json()["id"]
        tested = su.post(f"/api/v1/integrations/{pk}/test/").json()
        assert tested == {"ok": True, "message": "Connected to Spanning Microsoft 365: 50 licenses."}
        fake.unauthorized()
        refused = su.post(f"/api/v1/integrations/{pk}/test/").json()
        assert refused["ok"] is False and "refused the credentials" in refused["message"]
        fake.unauthorized(False)
        assert su.post(f"/api/v1/integrations/{pk}/sync/?wait=1").json()["ok"] is True
        assert SaasSource.objects.get(account=cast.account_a).licenses == 50
    finally:
        fake.stop()


def test_r14_1_the_hourly_task_polls_every_enabled_saas_integration(cast):
    fake = DattoFake().start()
    try:
        fake.clients = [{"id": 1, "name": "Acme"}]
        fake.assets = {"1": [asset("vm-1", "web")]}
        creds = {"public_key": fake.username, "secret_key": fake.secret}
        Integration.objects.create(account=cast.account_a, kind="datto", name="on", base_url=fake.url + "/v1",
                                   credentials=creds)
        Integration.objects.create(account=cast.account_b, kind="datto", name="off", base_url=fake.url + "/v1",
                                   credentials=creds, enabled=False)
        poll_saas()
        assert DattoClient.objects.get().account == cast.account_a
    finally:
        fake.stop()


def page(user):
    client = Client()
    client.force_login(user)
    return client


def test_protect_pages_show_sources_figures_and_recent_days_per_service(cast, sources):
    SaasDailyStatus.objects.create(account=cast.account_a, source=sources["a1"], date=timezone.now().date(),
                                   status="Partial", services={"Teams Channel": {"status": "Partial"}})
    html = page(cast.monitor_a).get("/protect/m365/").content.decode()
    assert "contoso.com" in html and "25" in html and "Teams Channel: Partial" in html
    assert "other.com" not in html and "Save mapping" not in html  # monitor: read only
    detail = page(cast.monitor_a).get(f"/protect/sources/{sources['a1'].pk}/")
    assert detail.status_code == 200 and "Partial" in detail.content.decode()
    assert page(cast.monitor_a).get(f"/protect/sources/{sources['b1'].pk}/").status_code == 404
    assert page(cast.monitor_a).get("/protect/dropbox/").status_code == 404
    assert "Microsoft Azure" in page(cast.monitor_a).get("/protect/").content.decode()


def test_protect_mapping_is_for_superusers_and_takes_effect_at_once(cast, sources):
    api_client(cast.superuser_a).post(INGEST, failed_days(sources["a1"]), format="json")
    url = f"/protect/sources/{sources['a1'].pk}/map/"
    assert page(cast.admin_a).post(url, {"organization": ""}).status_code == 403
    assert page(cast.superuser_a).post(url, {"organization": str(cast.org_b1.pk)}).status_code == 404
    assert page(cast.superuser_a).post(url, {"organization": ""}).status_code == 302
    sources["a1"].refresh_from_db()
    assert sources["a1"].organization is None
    assert Alert.objects.get(kind="spanning_m365").state == "resolved"  # R8.1
    assert page(cast.superuser_a).post(url, {"organization": str(cast.org_a2.pk)}).status_code == 302
    assert Alert.objects.get(kind="spanning_m365", state="open").organization_id == cast.org_a2.pk


def test_protect_azure_page_maps_datto_clients(cast):
    client_row = DattoClient.objects.create(account=cast.account_a, integration_id=1, external_id="7", name="Acme")
    html = page(cast.superuser_a).get("/protect/azure/").content.decode()
    assert "Acme" in html and "Save mapping" in html
    response = page(cast.superuser_a).post(f"/protect/azure/clients/{client_row.pk}/map/",
                                           {"organization": str(cast.org_a1.pk)})
    assert response.status_code == 302
    client_row.refresh_from_db()
    assert client_row.organization == cast.org_a1
