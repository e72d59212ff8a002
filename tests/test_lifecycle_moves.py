"""R15.1: an alert follows its subject — appliance moves, SaaS source and Datto client remaps."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.evaluation import evaluate
from alerts.models import Alert
from fakes.datto import asset
from fakes.psa import FAKES, make_psa
from integrations.mapping import remap
from integrations.models import Integration
from integrations.pollers import poll
from integrations.unitrends import steps as unitrends_steps
from inventory.models import Asset, DattoClient, SaasSource
from notifications.models import Delivery, PsaCompanyMapping
from tests.conftest import NOW, api_client, make_appliance, make_asset
from tests.test_psa_tickets import deliver_all
from thresholds.changes import save_custom, save_global

LATER = NOW + timedelta(minutes=5)


def backup_alarm_in_acme(cast, name="appliance-1"):
    """An Acme server with a daily schedule and no backup: a backup alarm at NOW (24 h, global)."""
    save_global(cast.account_a, {"backups_hours": 24, "hot_copy_hours": 24})
    appliance = make_appliance(cast.account_a, cast.org_a1, name)
    server = make_asset(appliance, f"{name}-server")
    evaluate(cast.account_a, NOW)
    return appliance, server, Alert.objects.get(kind="backup_alarm", state="open")


def move(cast, appliance, organization):
    response = api_client(cast.superuser_a).patch(
        f"/api/v1/appliances/{appliance.pk}/", {"organization": organization.pk}, format="json"
    )
    assert response.status_code == 200, response.content
    return response


def test_r15_1_moving_an_appliance_moves_its_assets(cast):
    appliance = make_appliance(cast.account_a, cast.org_a1)
    servers = [make_asset(appliance, f"server-{n}") for n in range(3)]
    move(cast, appliance, cast.org_a2)
    assert set(Asset.objects.filter(pk__in=[s.pk for s in servers]).values_list("organization", flat=True)) == {
        cast.org_a2.pk
    }
    # The scoped admin of Birch now sees them; of Acme nobody limited sees them any more.
    listed = api_client(cast.scoped_admin_a).get("/api/v1/assets/").json()["results"]
    assert sorted(a["name"] for a in listed) == ["server-0", "server-1", "server-2"]


def test_r15_1_a_sync_puts_every_asset_in_its_appliance_organization(cast):
    """An asset written from an appliance read before the move (a sync running across it) is repaired."""
    appliance = make_appliance(cast.account_a, cast.org_a1)
    server = make_asset(appliance, "server-1")
    stale = type(appliance).objects.get(pk=appliance.pk)
    move(cast, appliance, cast.org_a2)
    Asset.objects.filter(pk=server.pk).update(organization=cast.org_a1)  # as a stale write leaves it

    class Client:
        def assets(self):
            return [{"id": "server-1", "name": "server-1", "type": "windows"},
                    {"id": "server-2", "name": "server-2", "type": "windows"}]

    unitrends_steps.assets(Client(), stale, None, NOW)  # `stale` still says Acme
    assert set(Asset.objects.filter(appliance=appliance).values_list("organization", flat=True)) == {cast.org_a2.pk}


def test_r15_1_an_open_alert_follows_its_asset_with_group_counts_and_a_moved_event(cast):
    appliance, _, alert = backup_alarm_in_acme(cast)
    assert alert.organization_name == "Acme"
    deliveries = Delivery.objects.count()

    move(cast, appliance, cast.org_a2)
    evaluate(cast.account_a, LATER)

    alert.refresh_from_db()
    assert alert.state == "open"  # the same alert, not a new one
    assert (alert.organization_id, alert.organization_name) == (cast.org_a2.pk, "Birch")
    assert alert.group_key == f"{cast.org_a2.pk}:backup_alarm"
    assert alert.group_label.startswith("Birch — ")
    assert list(alert.events.values_list("type", "reason")) == [
        ("raised", ""), ("moved", "Moved from Acme to Birch"),
    ]
    assert Delivery.objects.count() == deliveries  # a move is history: nothing is sent

    su = api_client(cast.superuser_a)
    counts = {o["name"]: o["open_alerts"]["total"] for o in su.get("/api/v1/organizations/").json()["results"]}
    assert counts == {"Acme": 0, "Birch": 1}
    groups = su.get("/api/v1/alert-groups/").json()
    groups = groups["results"] if isinstance(groups, dict) else groups
    assert [(g["organization"], g["open_count"]) for g in groups] == [(cast.org_a2.pk, 1)]
    # Scoping follows too: Birch's limited admin now sees it.
    assert [a["id"] for a in api_client(cast.scoped_admin_a).get("/api/v1/alerts/").json()["results"]] == [alert.pk]

    evaluate(cast.account_a, LATER + timedelta(minutes=5))
    assert alert.events.count() == 2  # moved once, recorded once


@pytest.fixture
def connectwise(cast):
    fake = FAKES["connectwise"]().start()
    yield fake
    fake.stop()


def test_r15_1_later_tickets_use_the_new_organizations_company_and_threshold(cast, connectwise):
    make_psa(cast.account_a, "connectwise", connectwise)
    PsaCompanyMapping.objects.create(account=cast.account_a, organization=cast.org_a1, company="100")
    PsaCompanyMapping.objects.create(account=cast.account_a, organization=cast.org_a2, company="200")
    save_global(cast.account_a, {"backups_hours": 24, "hot_copy_hours": 24})
    save_custom(cast.account_a, {"name": "Birch servers", "backups_hours": 12}, organizations=[cast.org_a2])
    appliance = make_appliance(cast.account_a, cast.org_a1)
    make_asset(appliance, "server-1")

    move(cast, appliance, cast.org_a2)
    evaluate(cast.account_a, NOW)
    alert = Alert.objects.get(kind="backup_alarm", state="open")
    assert alert.organization_id == cast.org_a2.pk
    assert "Birch servers" in alert.details["threshold"] and "within 12 h" in alert.title
    assert deliver_all("connectwise") == ["sent"]
    assert [t["company"] for t in connectwise.tickets.values()] == ["200"]


def test_r15_1_a_remapped_spanning_source_takes_its_open_alert_along(cast):
    source = SaasSource.objects.create(account=cast.account_a, kind="m365", name="contoso.com",
                                       external_id="contoso.com", organization=cast.org_a1)
    today = timezone.now().date()
    days = [{"source": source.pk, "date": (today - timedelta(days=i)).isoformat(), "status": "Failed",
             "services": {"Mail": {"status": "Failed"}}} for i in range(3)]
    su = api_client(cast.superuser_a)
    assert su.post("/api/v1/ingest/saas-status/", days, format="json").status_code == 200
    alert = Alert.objects.get(kind="spanning_m365", state="open")
    assert alert.organization_id == cast.org_a1.pk

    assert su.patch(f"/api/v1/saas-sources/{source.pk}/", {"organization": cast.org_a2.pk},
                    format="json").status_code == 200
    alert.refresh_from_db()  # the remap evaluates at once
    assert alert.state == "open" and alert.organization_id == cast.org_a2.pk
    assert alert.group_label.startswith("Birch — ")
    assert alert.events.filter(type="moved").get().reason == "Moved from Acme to Birch"


@pytest.fixture
def datto(datto_fake):
    fake = datto_fake
    fake.clients = [{"id": 11, "name": "ACME"}]
    stale = (NOW - timedelta(hours=30)).isoformat().replace("+00:00", "Z")
    fake.assets = {"11": [asset("vm-1", "acme-web", end=stale)]}
    yield fake


def test_r15_1_a_remapped_datto_client_moves_its_azure_assets_and_their_alerts(cast, datto):
    integration = Integration.objects.create(
        account=cast.account_a, kind="datto", name="Datto", base_url=datto.url + "/v1",
        credentials={"public_key": datto.username, "secret_key": datto.secret},
    )
    save_global(cast.account_a, {"backups_hours": 24, "hot_copy_hours": 24, "azure_hours": 24})
    poll(integration, NOW)
    evaluate(cast.account_a, NOW)
    alert = Alert.objects.get(kind="dbma_backup", state="open")
    assert alert.organization_id == cast.org_a1.pk

    remap(DattoClient.objects.get(external_id="11"), cast.org_a2)
    evaluate(cast.account_a, LATER)
    alert.refresh_from_db()
    assert alert.state == "open" and alert.organization_id == cast.org_a2.pk
    assert alert.group_key.startswith(f"{cast.org_a2.pk}:dbma_backup")
    assert alert.events.filter(type="moved").get().reason == "Moved from Acme to Birch"
