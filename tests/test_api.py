"""API.md conventions: the schema, pagination, the error shape, filters, dismissal, evaluations."""

from datetime import timedelta

import pytest
import yaml
from openapi_spec_validator import validate

from alerts.evaluation import evaluate
from alerts.models import Alert
from tests.conftest import NOW, api_client, make_appliance


def test_the_schema_is_a_valid_openapi_3_document_listing_every_endpoint(cast, client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    validate(schema)
    assert schema["openapi"].startswith("3.")
    paths = set(schema["paths"])
    for path in [
        "/api/v1/alerts/", "/api/v1/alerts/{id}/", "/api/v1/alerts/{id}/dismiss/", "/api/v1/alerts/dismiss/",
        "/api/v1/alert-groups/", "/api/v1/alert-groups/{id}/dismiss/", "/api/v1/organizations/",
        "/api/v1/organizations/{id}/", "/api/v1/appliances/", "/api/v1/appliances/{id}/", "/api/v1/assets/",
        "/api/v1/assets/{id}/", "/api/v1/evaluations/", "/api/v1/ingest/backups/", "/api/v1/settings/alerts/",
        "/api/v1/deliveries/", "/api/v1/deliveries/{id}/retry/", "/api/v1/integrations/",
    ]:
        assert path in paths, path


def test_the_interactive_docs_are_served_without_a_cdn(client):
    page = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/" in page


@pytest.fixture
def many_alerts(cast):
    for n in range(7):
        make_appliance(cast.account_a, cast.org_a1 if n % 2 else cast.org_a2, f"ueb-{n}",
                       last_contact_at=NOW - timedelta(hours=1))
    evaluate(cast.account_a, NOW)


def test_lists_are_cursor_paginated(cast, many_alerts):
    client = api_client(cast.monitor_a)
    first = client.get("/api/v1/alerts/?page_size=3").json()
    assert set(first) == {"results", "next", "previous"} and len(first["results"]) == 3
    seen = [a["id"] for a in first["results"]]
    page = first
    while page["next"]:
        page = client.get(page["next"]).json()
        seen += [a["id"] for a in page["results"]]
    assert len(seen) == len(set(seen)) == 7


def test_alerts_filter_by_organization_kind_and_state(cast, many_alerts):
    client = api_client(cast.monitor_a)
    only_a1 = client.get(f"/api/v1/alerts/?organization={cast.org_a1.pk}").json()["results"]
    assert len(only_a1) == 3 and {a["organization"] for a in only_a1} == {cast.org_a1.pk}
    assert client.get("/api/v1/alerts/?kind=purging").json()["results"] == []
    alert = Alert.objects.first()
    api_client(cast.admin_a).post(f"/api/v1/alerts/{alert.pk}/dismiss/", {}, format="json")
    assert len(client.get("/api/v1/alerts/").json()["results"]) == 6  # state defaults to open
    dismissed = client.get("/api/v1/alerts/?state=dismissed").json()["results"]
    assert [a["id"] for a in dismissed] == [alert.pk]
    assert len(client.get("/api/v1/alerts/?state=all").json()["results"]) == 7


def test_a_bad_filter_value_is_400_naming_the_field(cast, many_alerts):
    response = api_client(cast.monitor_a).get("/api/v1/alerts/?state=sleeping")
    assert response.status_code == 400
    assert "state" in response.json()["errors"]


def test_validation_errors_use_the_documented_shape(cast):
    response = api_client(cast.superuser_a).post("/api/v1/organizations/", {"name": ""}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["errors"] and "name" in response.json()["errors"]


def test_r11_the_alert_detail_shows_its_events_reasons_and_deliveries(cast, many_alerts):
    alert = Alert.objects.filter(account=cast.account_a).first()
    api_client(cast.admin_a).post(f"/api/v1/alerts/{alert.pk}/dismiss/", {"reason": "maintenance window"}, format="json")
    body = api_client(cast.monitor_a).get(f"/api/v1/alerts/{alert.pk}/").json()
    assert [e["type"] for e in body["events"]] == ["raised", "dismissed"]
    assert body["events"][1]["reason"] == "maintenance window"
    assert body["events"][1]["actor"] == "admin@a.example"
    assert body["dismiss_reason"] == "maintenance window"
    assert {d["channel"] for d in body["deliveries"]} == {"email"}


def test_dismissing_an_alert_that_is_no_longer_open_is_409(cast, many_alerts):
    alert = Alert.objects.first()
    client = api_client(cast.admin_a)
    assert client.post(f"/api/v1/alerts/{alert.pk}/dismiss/", {}, format="json").status_code == 200
    assert client.post(f"/api/v1/alerts/{alert.pk}/dismiss/", {}, format="json").status_code == 409


def test_r11_3_a_superuser_dismisses_by_organization_and_or_group(cast, many_alerts):
    client = api_client(cast.superuser_a)
    assert client.post("/api/v1/alerts/dismiss/", {"organization": cast.org_a1.pk}, format="json").json() == {"dismissed": 3}
    group = Alert.objects.filter(state="open").first().group_key
    assert client.post("/api/v1/alerts/dismiss/", {"group": group}, format="json").json() == {"dismissed": 4}
    response = client.post("/api/v1/alerts/dismiss/", {}, format="json")
    assert response.status_code == 400 and "all" in response.json()["errors"]


def test_alert_groups_count_open_alerts_per_organization_and_kind(cast, many_alerts):
    groups = api_client(cast.monitor_a).get("/api/v1/alert-groups/").json()
    counts = {(g["organization"], g["kind"]): g["open_count"] for g in groups}
    assert counts == {(cast.org_a1.pk, "appliance_offline"): 3, (cast.org_a2.pk, "appliance_offline"): 4}
    assert all("Appliance offline" in g["label"] for g in groups)


def test_an_evaluation_can_be_run_now_or_replayed(cast):
    make_appliance(cast.account_a, cast.org_a1, "ueb", last_contact_at=NOW)
    client = api_client(cast.superuser_a)
    early = client.post("/api/v1/evaluations/", {"now": (NOW + timedelta(minutes=10)).isoformat()}, format="json")
    assert early.status_code == 200 and early.json()["raised"] == 0
    late = client.post("/api/v1/evaluations/", {"now": (NOW + timedelta(hours=1)).isoformat()}, format="json")
    assert late.json()["raised"] == 1  # R15.5: a replay answers what it would raise
    assert not Alert.objects.exists()


def test_alert_settings_validate_emails_and_categories(cast):
    client = api_client(cast.superuser_a)
    bad = client.patch("/api/v1/settings/alerts/", {"emails": ["a@x.example", "A@X.example"]}, format="json")
    assert bad.status_code == 400 and "emails" in bad.json()["errors"]
    bad = client.patch("/api/v1/settings/alerts/", {"categories": {"weather": False}}, format="json")
    assert bad.status_code == 400 and "categories" in bad.json()["errors"]
    good = client.patch("/api/v1/settings/alerts/", {"categories": {"storage": False}, "realert_hours": 12}, format="json")
    assert good.status_code == 200
    body = good.json()
    assert body["categories"]["storage"] is False and body["categories"]["backup"] is True
    assert body["realert_hours"] == 12


def test_assets_take_an_rfc_5545_schedule(cast):
    appliance = make_appliance(cast.account_a, cast.org_a1, "ueb")
    client = api_client(cast.superuser_a)
    payload = {"appliance": appliance.pk, "name": "sql", "type": "sql", "external_id": "sql",
               "backup_schedule": {"rrule": "FREQ=DAILY;BYHOUR=22;BYMINUTE=0", "dtstart": "2026-11-01T22:00:00"},
               "hot_copy": True}
    created = client.post("/api/v1/assets/", payload, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["backup_schedule"] == {"rrule": "FREQ=DAILY;BYHOUR=22;BYMINUTE=0", "dtstart": "2026-11-01T22:00:00"}
    assert created.json()["organization"] == cast.org_a1.pk
    bad = client.post("/api/v1/assets/", {**payload, "external_id": "x", "backup_schedule": {"rrule": "FREQ=SOMETIMES", "dtstart": "2026-11-01T22:00:00"}}, format="json")
    assert bad.status_code == 400 and "backup_schedule" in bad.json()["errors"]
    again = client.post("/api/v1/assets/", payload, format="json")
    assert again.status_code == 400 and "external_id" in again.json()["errors"]


def test_r2_1_switching_a_category_off_through_the_api_withdraws_its_alerts_at_once(cast):
    make_appliance(cast.account_a, cast.org_a1, "ueb", last_contact_at=NOW - timedelta(hours=1))
    evaluate(cast.account_a, NOW)
    response = api_client(cast.superuser_a).patch("/api/v1/settings/alerts/", {"categories": {"appliance": False}}, format="json")
    assert response.status_code == 200
    alert = Alert.objects.get(kind="appliance_offline")
    assert (alert.state, alert.resolved_reason) == ("resolved", "category_disabled")


def test_patching_or_removing_a_schedule_answers_the_new_state(cast):
    appliance = make_appliance(cast.account_a, cast.org_a1, "ueb")
    client = api_client(cast.superuser_a)
    created = client.post("/api/v1/assets/", {
        "appliance": appliance.pk, "name": "sql", "type": "sql", "external_id": "sql",
        "backup_schedule": {"rrule": "FREQ=DAILY;BYHOUR=22", "dtstart": "2026-11-01T22:00:00"},
    }, format="json").json()
    weekly = {"rrule": "FREQ=WEEKLY;BYDAY=SA;BYHOUR=8", "dtstart": "2026-11-07T08:00:00"}
    patched = client.patch(f"/api/v1/assets/{created['id']}/", {"backup_schedule": weekly}, format="json")
    assert patched.json()["backup_schedule"] == weekly
    removed = client.patch(f"/api/v1/assets/{created['id']}/", {"backup_schedule": None}, format="json")
    assert removed.json()["backup_schedule"] is None
    from inventory.models import BackupSchedule

    assert not BackupSchedule.objects.filter(asset_id=created["id"]).exists()
