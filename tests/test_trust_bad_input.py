"""Bad input answers 400 naming the field, never 500, and never poisons a row (API.md: errors).

Every door that takes a value from outside: ingestion (times, numbers, strings, NUL), evaluation
replays, dashboard filters, cursors, searches, oversized bodies, names with control characters,
names from a vendor, and the email subject built from them.
"""

import base64
import importlib
import json
from datetime import timedelta

import pytest
from django.apps import apps as django_apps
from django.db import DataError, connection
from django.utils import timezone

from alerts.evaluation import evaluate
from alerts.models import Alert
from fakes.datto import DattoFake
from fakes.datto import asset as datto_asset
from fakes.unitrends import (
    FakeAppliance,
    UnitrendsFake,
    populate,
    unitrends_integration,
)
from integrations.models import Integration
from integrations.pollers import poll
from integrations.unitrends.client import UnitrendsClient
from integrations.unitrends.poller import sync
from inventory.models import (
    ApplianceAlert,
    Asset,
    AzureAsset,
    Backup,
    BackupCopy,
    DattoClient,
    SaasDailyStatus,
    SaasSource,
)
from notifications import outbox
from notifications.models import Delivery
from tenancy.models import Organization, TokenScope
from tests.conftest import NOW, api_client, make_appliance, make_asset

TODAY = timezone.now()


@pytest.fixture
def asset(cast):
    appliance = make_appliance(cast.account_a, cast.org_a1, "ueb-1")
    return make_asset(appliance, "sql-01")


def backup(**overrides):
    start = (TODAY - timedelta(hours=3)).replace(microsecond=0)
    value = {
        "appliance": "ueb-1", "asset": "sql-01", "external_id": "b-1", "kind": "backup", "type": "full",
        "status": "success", "started_at": start.isoformat(), "finished_at": (start + timedelta(minutes=40)).isoformat(),
        "size_bytes": 1024, "error": "",
    }
    value.update(overrides)
    return value


def ingest(cast, payload):
    return api_client(cast.superuser_a, TokenScope.INGEST).post("/api/v1/ingest/backups/", payload, format="json")


def refused(response, field):
    assert response.status_code == 400, (response.status_code, response.content[:300])
    errors = response.json()["errors"]
    assert field in errors, errors
    return errors[field]


# --- ingest/backups/ ---------------------------------------------------------------------------

@pytest.mark.parametrize(("bad", "field"), [
    ({"started_at": "2026-02-30T22:00:00+00:00"}, "0.started_at"),  # no such day
    ({"started_at": "2026-11-01T22:00:00+24:00"}, "0.started_at"),  # an offset of a whole day
    ({"finished_at": "2026-11-01T22:00:00-99:59"}, "0.finished_at"),
    ({"started_at": "9999-12-31T23:00:00-05:00"}, "0.started_at"),  # overflows once in UTC
    ({"started_at": "0001-01-01T00:00:00+01:00"}, "0.started_at"),  # underflows once in UTC
    ({"started_at": "1999-12-31T23:59:59+00:00"}, "0.started_at"),  # before any backup we keep
    ({"size_bytes": 2**63}, "0.size_bytes"),  # beyond a bigint
    ({"size_bytes": 10**30}, "0.size_bytes"),
    ({"size_bytes": 1.5}, "0.size_bytes"),
    ({"external_id": "b\u00001"}, "0.external_id"),  # NUL
    ({"error": "VSS\u0000failed"}, "0.error"),
    ({"asset": "sql\u000001"}, "0.asset"),
    ({"of_backup": "b\u0000", "kind": "hot_copy"}, "0.of_backup"),
    ({"external_id": "x" * 101}, "0.external_id"),  # too long: refused, not truncated
    ({"error": "e" * 5001}, "0.error"),
    ({"started_at": ["2026-11-01"]}, "0.started_at"),
])
def test_a_bad_value_is_refused_naming_item_and_field_and_nothing_is_written(cast, asset, bad, field):
    assert refused(ingest(cast, [backup(**bad)]), field)
    assert not Backup.objects.exists()


def test_a_backup_more_than_a_day_in_the_future_is_refused(cast, asset):
    later = (TODAY + timedelta(days=2)).isoformat()
    assert refused(ingest(cast, [backup(started_at=later, finished_at=later)]), "0.started_at")
    assert not Backup.objects.exists()


def test_a_time_that_overflows_in_utc_never_reaches_the_asset_page(cast, asset):
    ingest(cast, [backup(started_at="9999-12-31T23:30:00-01:00", finished_at=None, status="running")])
    client = api_client(cast.monitor_a)
    assert client.get(f"/api/v1/assets/{asset.pk}/").status_code == 200
    assert client.get(f"/api/v1/assets/{asset.pk}/recovery-points/").status_code == 200


def test_two_long_external_ids_sharing_their_first_100_characters_do_not_merge(cast, asset):
    stem = "x" * 100
    response = ingest(cast, [backup(external_id=stem + "1"), backup(external_id=stem + "2")])
    assert refused(response, "0.external_id") == refused(response, "1.external_id") == ["At most 100 characters."]
    assert not Backup.objects.exists()


def test_a_backup_of_exactly_the_largest_size_and_the_longest_id_is_kept(cast, asset):
    response = ingest(cast, [backup(external_id="x" * 100, size_bytes=2**63 - 1)])
    assert response.status_code == 200, response.json()
    assert Backup.objects.get().external_id == "x" * 100


# --- ingest/saas-status/ ------------------------------------------------------------------------

@pytest.fixture
def saas_source(cast):
    return SaasSource.objects.create(account=cast.account_a, organization=cast.org_a1, kind="m365",
                                     name="contoso", external_id="tenant-1")


@pytest.mark.parametrize(("bad", "field"), [
    ({"date": "0001-01-01"}, "date"),
    ({"date": "9999-12-31"}, "date"),
    ({"date": "2026-02-30"}, "date"),
    ({"services": {"exchange": "fail\u0000ed"}}, "services"),
    ({"services": {"exch\u0000ange": "failed"}}, "services"),
    ({"source": 2**63}, "source"),
])
def test_a_bad_saas_status_is_refused_naming_the_field(cast, saas_source, bad, field):
    item = {"source": saas_source.pk, "date": TODAY.date().isoformat(), "status": "Successful", **bad}
    response = api_client(cast.superuser_a, TokenScope.INGEST).post(
        "/api/v1/ingest/saas-status/", [item], format="json")
    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert field in json.dumps(response.json()["errors"]), response.json()
    assert not SaasDailyStatus.objects.exists()


# --- evaluations/ -------------------------------------------------------------------------------

@pytest.mark.parametrize("now", ["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+00:00",
                                 "0001-01-01T00:30:00+01:00", "1999-01-01T00:00:00+00:00"])
def test_an_evaluation_replayed_out_of_range_is_refused_naming_now(cast, now):
    response = api_client(cast.superuser_a).post("/api/v1/evaluations/", {"now": now}, format="json")
    assert refused(response, "now")


# --- dashboard filters, cursors, searches ----------------------------------------------------------

@pytest.mark.parametrize("url", [
    "/alerts/?organization=²", "/alerts/?organization=٣", "/alerts/?organization=99999999999999999999999",
    "/audit/?actor=²", "/audit/?before=²", "/audit/?actor=99999999999999999999999",
])
def test_a_malformed_id_in_a_dashboard_filter_shows_the_page_unfiltered(cast, client, url):
    client.force_login(cast.superuser_a)
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("url", ["/alerts/?organization=%00", "/organizations/?q=%00", "/alerts/?group=%00"])
def test_a_nul_in_a_dashboard_filter_answers_400(cast, client, url):
    client.force_login(cast.superuser_a)
    response = client.get(url)
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


def _tampered(position):
    return base64.b64encode(f"o=0&r=0&p={position}".encode()).decode()


@pytest.mark.parametrize("cursor", [_tampered("abc"), _tampered("%00"), _tampered("99999999999999999999999"),
                                    _tampered("²"), "%00"])
def test_a_tampered_cursor_is_refused_naming_cursor(cast, cursor):
    response = api_client(cast.superuser_a).get(f"/api/v1/alerts/?cursor={cursor}")
    assert refused(response, "cursor")


@pytest.mark.parametrize("query", ["search=%00", "name=%00", "organization=%00", "kind=%00", "group=%00"])
def test_a_nul_in_a_query_parameter_is_refused_naming_it(cast, query):
    path = "/api/v1/organizations/" if query.startswith(("search", "name")) else "/api/v1/alerts/"
    response = api_client(cast.superuser_a).get(f"{path}?{query}")
    assert refused(response, query.split("=")[0])


def test_a_body_over_the_size_limit_answers_json_413(cast, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    payload = [backup(external_id=f"b-{i}") for i in range(200)]
    response = ingest(cast, payload)
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    assert "body" in response.json()["errors"]


# --- names with control characters ------------------------------------------------------------------

@pytest.mark.parametrize(("path", "body"), [
    ("/api/v1/organizations/", {"name": "Acme\nInc"}),
    ("/api/v1/organizations/", {"name": "Acme\u2028Inc"}),
    ("/api/v1/tokens/", {"name": "ci\rtoken", "scope": "read"}),
    ("/api/v1/saas-sources/", {"kind": "m365", "name": "con\ttoso", "external_id": "t-2"}),
    ("/api/v1/saas-sources/", {"kind": "m365", "name": "contoso", "external_id": "t\n2"}),
    ("/api/v1/thresholds/custom/", {"name": "gold\x1b[31m", "backups_enabled": True, "backups_hours": 24,
                                     "hot_copy_enabled": True, "hot_copy_hours": 24, "azure_hours": 24}),
])
def test_a_name_with_a_control_character_is_refused(cast, path, body):
    response = api_client(cast.superuser_a).post(path, body, format="json")
    field = next(k for k, v in body.items() if isinstance(v, str) and not v.isprintable())
    assert refused(response, field)


def test_an_appliance_or_asset_name_with_a_newline_is_refused(cast):
    client = api_client(cast.superuser_a)
    response = client.post("/api/v1/appliances/", {
        "organization": cast.org_a1.pk, "name": "ueb\nBcc: x@evil.example", "external_id": "ueb-9",
        "version": "10.8.2", "timezone": "UTC"}, format="json")
    assert refused(response, "name")
    appliance = make_appliance(cast.account_a, cast.org_a1, "ueb-2")
    response = client.post("/api/v1/assets/", {"appliance": appliance.pk, "name": "sql\n01", "type": "windows",
                                               "external_id": "sql-01"}, format="json")
    assert refused(response, "name")
    assert not Asset.objects.exists()


def test_an_organization_name_with_a_newline_is_refused_in_the_dashboard(cast, client):
    client.force_login(cast.superuser_a)
    client.post("/organizations/", {"name": "Evil\nCorp"})
    client.post(f"/organizations/{cast.org_a1.pk}/rename/", {"name": "Acme\rInc"})
    assert not Organization.objects.filter(name__regex=r"[\r\n]").exists()


def test_an_alert_email_goes_out_even_for_a_name_stored_with_a_newline_before_validation(cast, smtp):
    # A row written before names were validated: the email subject must still be one line.
    make_appliance(cast.account_a, cast.org_a1, "ueb\r\nBcc: x@evil.example", external_id="ueb-3",
                   last_contact_at=NOW - timedelta(hours=1))
    evaluate(cast.account_a, NOW)
    delivery = Delivery.objects.get()
    assert outbox.deliver(delivery.pk) == "sent"
    [message] = smtp.messages
    assert message["Subject"].startswith(f"[{Alert.objects.get().ref}] Alert: Appliance ueb Bcc: x@evil.example")
    assert message["Bcc"] is None


# --- names read from a vendor --------------------------------------------------------------------

@pytest.fixture
def odd_unitrends():
    appliance = populate(FakeAppliance("ueb-01", "10.8.2"))
    appliance.add_asset(103, "fs-02\r\nBcc: x@evil.example\x00", "windows")
    appliance.add_asset(104, "\x00\t", "windows")  # nothing left once cleaned: skipped
    appliance.add_asset("x" * 101, "too-long-id", "windows")  # cannot be stored whole: skipped, not cut
    appliance.add_alert(9003, "storage", "Disk\x00 failing\r\nnow", severity="critical")
    server = UnitrendsFake({"": appliance}).start()
    yield server
    server.stop()


def test_a_vendor_name_with_control_characters_is_cleaned_and_the_sync_completes(cast, odd_unitrends):
    integration = unitrends_integration(cast.account_a, cast.org_a1, odd_unitrends)
    summary = sync(integration, NOW, UnitrendsClient.for_integration(integration, retries=0))
    assert "synced" in summary, summary
    names = sorted(Asset.objects.values_list("name", flat=True))
    assert names == ["fs-01", "fs-02 Bcc: x@evil.example", "sql-01"]
    messages = list(ApplianceAlert.objects.values_list("message", flat=True))
    assert not any("\x00" in message for message in messages), messages


def test_a_session_cookie_holding_a_nul_is_ignored_not_a_500(cast, client):
    client.cookies["sessionid"] = "abc\x00def"
    token = api_client(cast.superuser_a)
    token.cookies["sessionid"] = "abc\x00defghij"
    assert token.get("/api/v1/organizations/").status_code == 200
    assert client.get("/alerts/").status_code == 302  # not signed in: to the login page


def test_a_nul_in_a_dashboard_form_is_refused_and_changes_nothing(cast, client):
    make_appliance(cast.account_a, cast.org_a1, "silent", last_contact_at=NOW - timedelta(hours=1))
    evaluate(cast.account_a, NOW)
    alert = Alert.objects.get()
    client.force_login(cast.admin_a)
    response = client.post(f"/alerts/{alert.pk}/dismiss/", {"reason": "done\x00"})
    assert response.status_code == 400
    alert.refresh_from_db()
    assert alert.state == "open"


def test_an_appliance_last_contact_beyond_the_window_is_refused_and_evaluation_keeps_working(cast):
    client = api_client(cast.superuser_a)
    response = client.post("/api/v1/appliances/", {
        "organization": cast.org_a1.pk, "name": "ueb-9", "external_id": "ueb-9", "version": "10.8.2",
        "timezone": "UTC", "last_contact_at": "9999-12-31T23:59:59Z"}, format="json")
    assert refused(response, "last_contact_at")
    assert client.post("/api/v1/evaluations/?wait=1", {}, format="json").status_code == 201


def _point_cursor(*parts):
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


@pytest.mark.parametrize("cursor", [
    _point_cursor("2026-11-01T22:00:00+00:00", "backup", 10**30),
    _point_cursor("2026-11-01T22:00:00", "backup", 1),  # naive
    _point_cursor("2026-11-01T22:00:00+00:00", "backup", "1"),
    _point_cursor("2026-11-01T22:00:00+00:00", "back\u0000up", 1),
    _point_cursor("2026-11-01T22:00:00\u0000", "backup", 1),
    _point_cursor(["x"], "backup", 1),
])
def test_a_tampered_recovery_points_cursor_is_refused_naming_cursor(cast, asset, cursor):
    assert refused(api_client(cast.monitor_a).get(f"/api/v1/assets/{asset.pk}/recovery-points/?cursor={cursor}"),
                   "cursor")


def test_a_dismissal_reason_over_the_limit_is_refused_in_the_dashboard_not_cut(cast, client):
    make_appliance(cast.account_a, cast.org_a1, "silent", last_contact_at=NOW - timedelta(hours=1))
    evaluate(cast.account_a, NOW)
    alert = Alert.objects.get()
    client.force_login(cast.admin_a)
    client.post(f"/alerts/{alert.pk}/dismiss/", {"reason": "r" * 2001})
    alert.refresh_from_db()
    assert alert.state == "open"
    response = client.post(f"/alerts/{alert.pk}/dismiss/", {"reason": "r" * 2000}, HTTP_HX_REQUEST="true")
    alert.refresh_from_db()
    assert (response.status_code, alert.state) == (204, "dismissed")


def test_datto_names_with_control_characters_are_cleaned_into_one_line(cast):
    datto = DattoFake().start()
    try:
        datto.clients = [{"id": 11, "name": "Zeta\r\nCorp\x00"}]
        datto.assets = {"11": [datto_asset("vm-1", "web\n01", module="Prod\tsub", resource_group="rg\x1b1")]}
        integration = Integration.objects.create(
            account=cast.account_a, kind="datto", name="Datto", base_url=datto.url + "/v1",
            credentials={"public_key": datto.username, "secret_key": datto.secret})
        poll(integration, NOW)
    finally:
        datto.stop()
    assert DattoClient.objects.get().name == "Zeta Corp"
    assert Organization.objects.filter(account=cast.account_a, name="Zeta Corp").exists()
    azure = AzureAsset.objects.get()
    assert (azure.name, azure.module, azure.resource_group) == ("web 01", "Prod sub", "rg 1")


@pytest.mark.parametrize("path", ["/api/v1/alerts/²/", "/api/v1/organizations/%00/", "/api/v1/assets/99999999999999999999999/",
                                  "/api/v1/alerts/?organization=²", "/api/v1/assets/?appliance=²&page_size=²"])
def test_a_malformed_id_in_an_api_path_or_filter_is_not_a_500(cast, path):
    response = api_client(cast.superuser_a).get(path)
    assert response.status_code in (200, 400, 404), (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")


def test_a_backup_stored_past_year_9999_before_the_bound_is_dropped_by_the_upgrade(cast, asset):
    migration = importlib.import_module("inventory.migrations.0006_names_are_one_line")
    ingest(cast, [backup(), backup(external_id="b-2")])
    good, poisoned = Backup.objects.order_by("external_id")
    BackupCopy.objects.create(account=cast.account_a, asset=asset, backup=poisoned, external_id="c-2", target="hot",
                              status="success", started_at=TODAY)
    with connection.cursor() as cursor:  # as the unbounded ingestion stored it
        cursor.execute("UPDATE inventory_backup SET started_at = '10000-01-01T05:00:00Z' WHERE id = %s", [poisoned.pk])
    client = api_client(cast.monitor_a)
    with pytest.raises(DataError):  # the page fails on every visit until the row goes
        client.get(f"/api/v1/assets/{asset.pk}/recovery-points/")

    with connection.schema_editor() as editor:
        migration.drop_unreadable_times(django_apps, editor)
    assert list(Backup.objects.values_list("pk", flat=True)) == [good.pk]
    assert not BackupCopy.objects.exists()
    assert client.get(f"/api/v1/assets/{asset.pk}/recovery-points/").status_code == 200
