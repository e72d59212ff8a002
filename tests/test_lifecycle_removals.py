"""R15.2: removing a subject resolves its open alerts first (`subject_removed`), fans that out,
and keeps history; removing a Unitrends integration retires its appliance."""

from datetime import timedelta

import pytest
from django.test import Client

from alerts.conditions import Condition
from alerts.evaluation import evaluate
from alerts.models import Alert, AlertEvent
from alerts.reconciler import reconcile
from fakes.datto import DattoFake, asset
from fakes.psa import FAKES, make_psa
from integrations.models import Integration
from integrations.pollers import poll
from inventory import lifecycle
from inventory.models import Appliance, Asset, AzureAsset, SaasSource
from notifications.models import Delivery
from tenancy.models import Organization
from tests.conftest import NOW, api_client, make_appliance, make_asset
from tests.test_psa_tickets import deliver_all
from tests.test_vsa import deliver_vsa, make_vsa
from thresholds.changes import save_global

LATER = NOW + timedelta(minutes=5)


def silent(cast, name="silent", org=None, **fields):
    """An appliance out of contact for an hour (an offline alert) with a server that has no backup."""
    save_global(cast.account_a, {"backups_hours": 24, "hot_copy_hours": 24})
    appliance = make_appliance(cast.account_a, org or cast.org_a1, name, last_contact_at=NOW - timedelta(hours=1),
                               **fields)
    make_asset(appliance, f"{name}-server")
    evaluate(cast.account_a, NOW)
    return appliance


def alerts_of(appliance):
    return Alert.objects.filter(subject__in=[f"appliance:{appliance.pk}"] + [f"asset:{pk}" for pk in
                                Asset.objects.filter(appliance=appliance).values_list("pk", flat=True)])


def assert_resolved_as_removed(alerts, at=None):
    assert alerts, "nothing to check"
    for alert in alerts:
        alert.refresh_from_db()
        assert (alert.state, alert.resolved_reason) == ("resolved", "subject_removed"), alert
        assert [e.type for e in alert.events.all()][-1] == "resolved"


def test_r15_2_deleting_an_organization_resolves_its_alerts_and_keeps_their_history(cast):
    appliance = silent(cast)
    alerts = list(alerts_of(appliance))
    assert sorted(a.kind for a in alerts) == ["appliance_offline", "backup_alarm"]

    response = api_client(cast.superuser_a).delete(f"/api/v1/organizations/{cast.org_a1.pk}/?confirm=true")
    assert response.status_code == 204
    assert not Organization.objects.filter(pk=cast.org_a1.pk).exists()
    assert not Appliance.objects.filter(pk=appliance.pk).exists()
    assert_resolved_as_removed(alerts)
    for alert in alerts:
        assert alert.organization_id is None and alert.organization_name == "Acme"  # the name as it was
        assert alert.title  # it still says what failed and where
    # The resolution fans out like any other: one email per alert for the resolve.
    resolved = AlertEvent.objects.filter(alert__in=alerts, type="resolved")
    assert Delivery.objects.filter(event__in=resolved, channel="email").count() == 2
    # History is read as before: the alert page names the organization.
    client = Client()
    client.force_login(cast.superuser_a)
    page = client.get(f"/alerts/{alerts[0].pk}/").content.decode()
    assert "Acme" in page and "its subject was removed" in page

    evaluate(cast.account_a, LATER)
    assert Alert.objects.filter(state="open").count() == 0  # nothing comes back


def test_r15_2_the_dashboard_delete_button_resolves_first_too(cast):
    appliance = silent(cast)
    alerts = list(alerts_of(appliance))
    client = Client()
    client.force_login(cast.superuser_a)
    confirm = client.get(f"/organizations/{cast.org_a1.pk}/delete/").content.decode()
    assert "2 open alert(s) are resolved first" in confirm
    assert client.post(f"/organizations/{cast.org_a1.pk}/delete/").status_code == 302
    assert_resolved_as_removed(alerts)


def test_r15_2_an_organization_deleted_by_django_alone_keeps_its_alerts_and_resolves_them(cast):
    """A door that skips the domain function (the admin, a shell): no cascade takes the alerts away."""
    appliance = silent(cast)
    alerts = list(alerts_of(appliance))
    Organization.objects.filter(pk=cast.org_a1.pk).delete()
    assert Alert.objects.filter(pk__in=[a.pk for a in alerts]).count() == 2
    assert_resolved_as_removed(alerts)
    assert Delivery.objects.filter(event__type="resolved", event__alert__in=alerts).count() == 2
    evaluate(cast.account_a, LATER)
    assert AlertEvent.objects.filter(alert__in=alerts, type="resolved").count() == 2  # once each


def test_r15_2_an_appliance_deleted_by_django_alone_resolves_its_and_its_assets_alerts(cast):
    appliance = silent(cast)
    alerts = list(alerts_of(appliance))
    Appliance.objects.get(pk=appliance.pk).delete()
    assert_resolved_as_removed(alerts)


def test_r15_2_deleting_an_appliance_resolves_its_and_its_assets_alerts(cast):
    appliance = silent(cast)
    other = silent(cast, "other")
    alerts = list(alerts_of(appliance))
    kept = list(alerts_of(other))
    assert api_client(cast.superuser_a).delete(f"/api/v1/appliances/{appliance.pk}/").status_code == 204
    assert_resolved_as_removed(alerts)
    for alert in alerts:
        assert alert.appliance_id is None and alert.organization_id == cast.org_a1.pk
    assert all(a.state == "open" for a in Alert.objects.filter(pk__in=[a.pk for a in kept]))


def test_r15_2_deleting_an_asset_resolves_its_alert_only(cast):
    appliance = silent(cast)
    server = Asset.objects.get(appliance=appliance)
    backup_alarm = Alert.objects.get(subject=f"asset:{server.pk}")
    assert api_client(cast.superuser_a).delete(f"/api/v1/assets/{server.pk}/").status_code == 204
    assert_resolved_as_removed([backup_alarm])
    assert Alert.objects.get(subject=f"appliance:{appliance.pk}").state == "open"


def test_r15_2_deleting_a_saas_source_resolves_its_alert_and_is_superuser_only(cast):
    source = SaasSource.objects.create(account=cast.account_a, kind="m365", name="contoso.com",
                                       external_id="contoso.com", organization=cast.org_a1)
    condition = Condition(kind="spanning_m365", subject=f"saas:{source.pk}:failed", title="contoso.com failed",
                          organization_id=cast.org_a1.pk)
    reconcile(cast.account_a, ["spanning_m365"], [condition], NOW)
    alert = Alert.objects.get()
    url = f"/api/v1/saas-sources/{source.pk}/"
    assert api_client(cast.admin_a).delete(url).status_code == 403
    assert api_client(cast.superuser_b).delete(url).status_code == 404
    assert alert.state == "open" and SaasSource.objects.filter(pk=source.pk).exists()

    assert api_client(cast.superuser_a).delete(url).status_code == 204
    assert not SaasSource.objects.filter(pk=source.pk).exists()
    assert_resolved_as_removed([alert])


def test_r15_2_removing_a_unitrends_integration_retires_its_appliance(cast):
    appliance = silent(cast, version="10.5.0")
    assert Alert.objects.filter(kind="appliance_upgrade", state="open").exists()
    integration = Integration.objects.create(
        account=cast.account_a, kind="unitrends", name="Unitrends", base_url="https://appliance.example",
        credentials={"username": "root", "password": "x"},
        options={"organization": cast.org_a1.pk, "appliance": appliance.pk},
    )
    alerts = list(alerts_of(appliance))
    su = api_client(cast.superuser_a)
    assert su.delete(f"/api/v1/integrations/{integration.pk}/").status_code == 204
    assert_resolved_as_removed(alerts)

    appliance.refresh_from_db()  # kept for history, shown as retired
    assert appliance.retired_at is not None
    assert su.get(f"/api/v1/appliances/{appliance.pk}/").json()["retired_at"] is not None
    client = Client()
    client.force_login(cast.superuser_a)
    assert "retired" in client.get(f"/organizations/{cast.org_a1.pk}/").content.decode()

    # Still silent, without a backup and too old, it alarms no more.
    evaluate(cast.account_a, NOW + timedelta(days=2))
    assert not Alert.objects.filter(state="open").exists()


def test_r15_2_removing_a_datto_integration_resolves_its_azure_and_integration_alerts(cast):
    integration = Integration.objects.create(account=cast.account_a, kind="datto", name="Datto",
                                             base_url="https://api.datto.example/v1",
                                             credentials={"public_key": "p", "secret_key": "s"})
    azure = AzureAsset.objects.create(account=cast.account_a, organization=cast.org_a1, integration_id=integration.pk,
                                      client_external_id="11", client_name="ACME", external_id="vm-1", name="acme-web")
    conditions = [
        Condition(kind="dbma_backup", subject=f"azure:{azure.pk}", title="acme-web late", organization_id=cast.org_a1.pk),
        Condition(kind="dbma_integration", subject=f"integration:{integration.pk}:quota", title="quota",
                  organization_id=None),
    ]
    reconcile(cast.account_a, ["dbma_backup", "dbma_integration"], conditions, NOW)
    alerts = list(Alert.objects.all())
    assert api_client(cast.superuser_a).delete(f"/api/v1/integrations/{integration.pk}/").status_code == 204
    assert not AzureAsset.objects.exists()
    assert_resolved_as_removed(alerts)


def test_r15_2_the_integrations_page_remove_button_goes_the_same_way(cast):
    appliance = silent(cast)
    integration = Integration.objects.create(
        account=cast.account_a, kind="unitrends", name="Unitrends", base_url="https://appliance.example",
        credentials={"username": "root", "password": "x"}, options={"appliance": appliance.pk},
    )
    client = Client()
    client.force_login(cast.superuser_a)
    assert client.post(f"/settings/integrations/{integration.pk}/remove/").status_code == 302
    assert_resolved_as_removed(list(alerts_of(appliance)))
    assert Appliance.objects.get(pk=appliance.pk).retired_at is not None


@pytest.fixture
def connectwise(cast):
    fake = FAKES["connectwise"]().start()
    yield fake
    fake.stop()


def test_r15_2_the_ticket_is_closed_after_the_subject_rows_are_gone(cast, connectwise):
    make_psa(cast.account_a, "connectwise", connectwise, close_on_resolve=True)
    appliance = silent(cast)
    assert deliver_all("connectwise") == ["sent", "sent"]  # offline + backup alarm
    assert api_client(cast.superuser_a).delete(f"/api/v1/organizations/{cast.org_a1.pk}/?confirm=true").status_code == 204
    assert not Appliance.objects.filter(pk=appliance.pk).exists()

    assert deliver_all("connectwise") == ["sent", "sent"]
    assert sorted(int(t["status"]) for t in connectwise.tickets.values()) == [9, 9]
    assert len(connectwise.calls("POST")) == 2  # no ticket opened twice


@pytest.fixture
def vsa(cast, vsa_fake):
    fake = vsa_fake
    yield fake


def test_r15_2_the_vsa_alarm_is_closed_when_its_asset_is_removed(cast, vsa):
    make_vsa(cast.account_a, vsa)
    appliance = silent(cast)
    assert deliver_vsa() == ["sent"]  # the backup alarm
    server = Asset.objects.get(appliance=appliance)
    assert api_client(cast.superuser_a).delete(f"/api/v1/assets/{server.pk}/").status_code == 204
    assert deliver_vsa() == ["sent"]
    [posted] = vsa.alarms.values()
    assert posted["closed"] is True


def test_r15_2_an_azure_asset_the_datto_portal_no_longer_lists_resolves_as_removed(cast):
    fake = DattoFake().start()
    try:
        stale = (NOW - timedelta(hours=30)).isoformat().replace("+00:00", "Z")
        fake.clients = [{"id": 11, "name": "ACME"}]
        fake.assets = {"11": [asset("vm-1", "acme-web", end=stale), asset("vm-2", "acme-sql", end=stale)]}
        integration = Integration.objects.create(
            account=cast.account_a, kind="datto", name="Datto", base_url=fake.url + "/v1",
            credentials={"public_key": fake.username, "secret_key": fake.secret},
        )
        save_global(cast.account_a, {"backups_hours": 24, "hot_copy_hours": 24, "azure_hours": 24})
        poll(integration, NOW)
        evaluate(cast.account_a, NOW)
        gone = Alert.objects.get(kind="dbma_backup", title__contains="acme-web")

        fake.assets = {"11": [asset("vm-2", "acme-sql", end=stale)]}
        poll(integration, LATER)
        assert not AzureAsset.objects.filter(external_id="vm-1").exists()
        assert_resolved_as_removed([gone])
        assert Alert.objects.get(kind="dbma_backup", title__contains="acme-sql").state == "open"
    finally:
        fake.stop()


def test_r15_2_the_source_page_remove_button_resolves_first_and_is_superuser_only(cast):
    source = SaasSource.objects.create(account=cast.account_a, kind="gws", name="birch.org",
                                       external_id="birch.org", organization=cast.org_a2)
    condition = Condition(kind="spanning_gws", subject=f"saas:{source.pk}:partial", title="birch.org partial",
                          organization_id=cast.org_a2.pk)
    reconcile(cast.account_a, ["spanning_gws"], [condition], NOW)
    alert = Alert.objects.get()
    client = Client()
    client.force_login(cast.scoped_admin_a)
    page = client.get(f"/protect/sources/{source.pk}/").content.decode()
    assert 'data-testid="remove-source"' not in page
    assert client.post(f"/protect/sources/{source.pk}/remove/").status_code == 403
    client.force_login(cast.superuser_b)
    assert client.post(f"/protect/sources/{source.pk}/remove/").status_code == 404
    assert SaasSource.objects.filter(pk=source.pk).exists()

    client.force_login(cast.superuser_a)
    assert 'data-testid="remove-source"' in client.get(f"/protect/sources/{source.pk}/").content.decode()
    assert client.post(f"/protect/sources/{source.pk}/remove/").url == "/protect/gws/"
    assert not SaasSource.objects.filter(pk=source.pk).exists()
    assert_resolved_as_removed([alert])


def test_r15_2_a_retired_appliances_page_says_retired_and_when_not_offline(cast):
    appliance = silent(cast)
    lifecycle.retire_appliances(Appliance.objects.filter(pk=appliance.pk), NOW)
    client = Client()
    client.force_login(cast.superuser_a)
    page = client.get(f"/appliances/{appliance.pk}/").content.decode()
    status = page.split('data-testid="appliance-status"', 1)[1].split("</span>", 1)[0]
    assert "Retired" in status and "2 Nov 2026" in status
    assert "Offline" not in status and "no contact for more than" not in page
