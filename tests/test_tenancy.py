"""R1: tenancy and roles over every endpoint the foundation builds."""

from datetime import timedelta

import pytest

from alerts.evaluation import evaluate
from alerts.models import Alert
from notifications.models import Delivery
from tenancy.models import TokenScope
from tests.conftest import NOW, api_client, make_asset


@pytest.fixture
def world(cast, offline_appliances):
    """Each account with an open alert, an asset, a delivery and an integration."""
    from integrations.models import Integration

    evaluate(cast.account_a, NOW)
    evaluate(cast.account_b, NOW)
    b = offline_appliances.b_silent
    b_alert = Alert.objects.get(account=cast.account_b)
    return {
        "organization": cast.org_b1.pk,
        "appliance": b.pk,
        "asset": make_asset(b, "b-server").pk,
        "alert": b_alert.pk,
        "group": b_alert.group_key,
        "delivery": Delivery.objects.filter(account=cast.account_b).first().pk,
        "integration": Integration.objects.create(account=cast.account_b, kind="datto", name="B's Datto").pk,
    }


# Every object endpoint the foundation builds, with the methods that reach one object.
OBJECT_ENDPOINTS = [
    ("get", "/api/v1/organizations/{organization}/"),
    ("patch", "/api/v1/organizations/{organization}/"),
    ("delete", "/api/v1/organizations/{organization}/"),
    ("get", "/api/v1/appliances/{appliance}/"),
    ("patch", "/api/v1/appliances/{appliance}/"),
    ("delete", "/api/v1/appliances/{appliance}/"),
    ("post", "/api/v1/appliances/{appliance}/check-in/"),
    ("get", "/api/v1/assets/{asset}/"),
    ("patch", "/api/v1/assets/{asset}/"),
    ("delete", "/api/v1/assets/{asset}/"),
    ("get", "/api/v1/alerts/{alert}/"),
    ("post", "/api/v1/alerts/{alert}/dismiss/"),
    ("post", "/api/v1/alert-groups/{group}/dismiss/"),
    ("get", "/api/v1/deliveries/{delivery}/"),
    ("post", "/api/v1/deliveries/{delivery}/retry/"),
    ("get", "/api/v1/integrations/{integration}/"),
    ("patch", "/api/v1/integrations/{integration}/"),
    ("delete", "/api/v1/integrations/{integration}/"),
    ("post", "/api/v1/integrations/{integration}/test/"),
    ("post", "/api/v1/integrations/{integration}/sync/"),
]


@pytest.mark.parametrize(("method", "path"), OBJECT_ENDPOINTS)
def test_r1_1_another_accounts_object_is_404_and_untouched(cast, world, method, path):
    client = api_client(cast.superuser_a)
    url = path.format(**world)
    before = Alert.objects.get(pk=world["alert"]).state
    response = getattr(client, method)(url, {}, format="json")
    assert response.status_code == 404, (url, response.status_code, response.content[:200])
    assert "B's" not in response.content.decode() and "b-silent" not in response.content.decode()
    assert Alert.objects.get(pk=world["alert"]).state == before


LISTS = [
    "/api/v1/organizations/", "/api/v1/appliances/", "/api/v1/assets/", "/api/v1/alerts/",
    "/api/v1/alert-groups/", "/api/v1/deliveries/", "/api/v1/integrations/",
]


@pytest.mark.parametrize("path", LISTS)
def test_r1_1_lists_show_only_the_callers_account(cast, world, path):
    body = api_client(cast.superuser_a).get(path).json()
    rows = body["results"] if isinstance(body, dict) else body
    ids = {str(row.get("id", row.get("key"))) for row in rows}
    own_key = {"organization": "organization", "appliance": "appliance", "asset": "asset", "alert": "alert",
               "alert-group": "group", "deliverie": "delivery", "integration": "integration"}
    b_value = str(world[own_key[path.strip("/").split("/")[-1].rstrip("s")]])
    assert b_value not in ids


def test_r1_1_dashboard_pages_answer_404_for_another_accounts_alert(cast, world, client):
    client.force_login(cast.superuser_a)
    assert client.get(f"/alerts/{world['alert']}/").status_code == 404
    assert client.post(f"/alerts/{world['alert']}/dismiss/").status_code == 404
    assert Alert.objects.get(pk=world["alert"]).state == "open"


def test_r1_1_a_field_naming_another_accounts_object_is_refused(cast, world):
    client = api_client(cast.superuser_a)
    response = client.post("/api/v1/appliances/", {
        "organization": world["organization"], "name": "x", "external_id": "x", "timezone": "UTC",
    }, format="json")
    assert response.status_code == 400 and "organization" in response.json()["errors"]
    response = client.post("/api/v1/alerts/dismiss/", {"organization": world["organization"]}, format="json")
    assert response.status_code == 400 and "organization" in response.json()["errors"]
    assert Alert.objects.get(pk=world["alert"]).state == "open"


def test_r1_1_no_credentials_is_401_and_a_bad_token_is_401(cast):
    from rest_framework.test import APIClient

    assert APIClient().get("/api/v1/alerts/").status_code in (401, 403)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer uv_nothere_nope")
    assert client.get("/api/v1/alerts/").status_code == 401


def test_a_revoked_token_stops_working(cast):
    from django.utils import timezone

    from tenancy.models import ApiToken

    token, plaintext = ApiToken.issue(cast.superuser_a)
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert client.get("/api/v1/alerts/").status_code == 200
    token.revoked_at = timezone.now()
    token.save()
    assert client.get("/api/v1/alerts/").status_code == 401


def test_tokens_are_stored_hashed(cast):
    from tenancy.models import ApiToken

    token, plaintext = ApiToken.issue(cast.admin_a)
    stored = ApiToken.objects.get(pk=token.pk)
    assert plaintext.split("_", 2)[-1] not in (stored.key_hash, stored.key_id)
    assert len(stored.key_hash) == 64


@pytest.mark.parametrize("role", ["admin_a", "monitor_a"])
def test_r1_3_only_a_superuser_writes_inventory_settings_and_runs_evaluations(cast, role):
    client = api_client(getattr(cast, role))
    assert client.post("/api/v1/organizations/", {"name": "New"}, format="json").status_code == 403
    assert client.patch("/api/v1/settings/alerts/", {"realert_hours": 2}, format="json").status_code == 403
    assert client.post("/api/v1/evaluations/", {}, format="json").status_code == 403
    assert client.post("/api/v1/alerts/dismiss/", {"organization": cast.org_a1.pk}, format="json").status_code == 403
    assert cast.account_a.alert_settings.realert_hours == 24
    assert not cast.account_a.organizations.filter(name="New").exists()


def test_r1_2_a_monitor_is_read_only(cast, offline_appliances):
    evaluate(cast.account_a, NOW)
    alert = Alert.objects.filter(account=cast.account_a).first()
    client = api_client(cast.monitor_a)
    assert client.get("/api/v1/alerts/").status_code == 200
    assert client.post(f"/api/v1/alerts/{alert.pk}/dismiss/", {}, format="json").status_code == 403
    assert client.post("/api/v1/alerts/dismiss/", {"all": True}, format="json").status_code == 403
    alert.refresh_from_db()
    assert alert.state == "open"


def test_r1_2_an_admin_dismisses_one_a_group_or_all(cast, offline_appliances):
    evaluate(cast.account_a, NOW)
    client = api_client(cast.admin_a)
    first, second = Alert.objects.filter(account=cast.account_a).order_by("pk")
    assert client.post(f"/api/v1/alerts/{first.pk}/dismiss/", {"reason": "planned"}, format="json").json() == {"dismissed": 1}
    assert client.post(f"/api/v1/alert-groups/{second.group_key}/dismiss/", {}, format="json").json() == {"dismissed": 1}
    assert Alert.objects.filter(account=cast.account_a, state="open").count() == 0


def test_r1_4_a_scoped_admin_sees_only_their_organizations(cast, offline_appliances):
    evaluate(cast.account_a, NOW)
    client = api_client(cast.scoped_admin_a)
    alerts = client.get("/api/v1/alerts/").json()["results"]
    assert {a["organization"] for a in alerts} == {cast.org_a2.pk}
    groups = client.get("/api/v1/alert-groups/").json()
    assert {g["organization"] for g in groups} == {cast.org_a2.pk}
    orgs = client.get("/api/v1/organizations/").json()["results"]
    assert [o["id"] for o in orgs] == [cast.org_a2.pk]
    other = Alert.objects.get(organization=cast.org_a1)
    assert client.get(f"/api/v1/alerts/{other.pk}/").status_code == 404


def test_r1_4_dismiss_all_by_a_scoped_admin_leaves_other_organizations_alone(cast, offline_appliances):
    evaluate(cast.account_a, NOW)
    response = api_client(cast.scoped_admin_a).post("/api/v1/alerts/dismiss/", {"all": True}, format="json")
    assert response.json() == {"dismissed": 1}
    assert Alert.objects.get(organization=cast.org_a1).state == "open"


def test_r1_4_the_bell_counts_only_what_the_user_may_see(cast, offline_appliances, client):
    evaluate(cast.account_a, NOW)
    client.force_login(cast.scoped_admin_a)
    assert client.get("/alerts/").context["bell_count"] == 1
    client.force_login(cast.admin_a)
    assert client.get("/alerts/").context["bell_count"] == 2


def test_a_read_token_cannot_write_and_an_ingest_token_can_only_ingest(cast, offline_appliances):
    evaluate(cast.account_a, NOW)
    alert = Alert.objects.filter(account=cast.account_a).first()
    read = api_client(cast.superuser_a, TokenScope.READ)
    assert read.get("/api/v1/alerts/").status_code == 200
    assert read.post(f"/api/v1/alerts/{alert.pk}/dismiss/", {}, format="json").status_code == 403
    ingest = api_client(cast.superuser_a, TokenScope.INGEST)
    assert ingest.post(f"/api/v1/alerts/{alert.pk}/dismiss/", {}, format="json").status_code == 403
    assert ingest.post("/api/v1/ingest/backups/", [], format="json").status_code == 200
    assert api_client(cast.monitor_a).post("/api/v1/ingest/backups/", [], format="json").status_code == 403
    # A token never exceeds its owner's role (R1.2), whatever its scope says.
    narrowed = api_client(cast.monitor_a, TokenScope.INGEST)
    assert narrowed.post("/api/v1/ingest/backups/", [], format="json").status_code == 403


def test_credentials_are_never_shown_in_full(cast):
    client = api_client(cast.superuser_a)
    created = client.post("/api/v1/integrations/", {
        "kind": "datto", "name": "Datto", "credentials": {"public_key": "pk-1234567890", "secret_key": "sk-abcdefghijkl"},
    }, format="json")
    assert created.status_code == 201
    text = client.get(f"/api/v1/integrations/{created.json()['id']}/").content.decode()
    assert "sk-abcdefghijkl" not in text and "pk-1234567890" not in text
    assert "ijkl" in text
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM integrations_integration")
        assert "sk-abcdefghijkl" not in cursor.fetchone()[0]


def test_appliance_check_in_marks_it_online(cast, offline_appliances):
    appliance = offline_appliances.a_silent
    response = api_client(cast.superuser_a).post(f"/api/v1/appliances/{appliance.pk}/check-in/")
    assert response.status_code == 200 and response.json()["status"] == "online"
    appliance.refresh_from_db()
    assert appliance.last_contact_at > NOW + timedelta(days=-1)
