"""Issue 5 item 5: the demo's appliances come from the fake appliance server and raise live alerts."""

import pytest
from django.utils import timezone

from alerts.evaluation import evaluate
from alerts.models import Alert
from demo import appliance_server
from integrations.models import Integration
from integrations.unitrends.poller import sync_one
from inventory.models import Appliance, Job


@pytest.fixture
def demo_server():
    server = appliance_server.serve(port=0)
    yield server
    server.stop()


def test_the_demo_appliances_sync_and_show_categories_upgrade_and_purging(cast, demo_server):
    port = demo_server.port
    assert appliance_server.connect(cast.account_a, port=port) == 3
    assert appliance_server.connect(cast.account_a, port=port) == 3  # idempotent: no second integration
    assert Integration.objects.filter(account=cast.account_a, kind="unitrends").count() == 3

    evaluate(cast.account_a, timezone.now())
    open_kinds = set(Alert.objects.filter(account=cast.account_a, state="open").values_list("kind", flat=True))
    assert {"appliance_alert", "appliance_upgrade", "purging"} <= open_kinds
    full = Appliance.objects.get(account=cast.account_a, name="lab-full-03")
    assert Alert.objects.get(kind="purging", state="open").appliance == full
    assert Job.objects.filter(account=cast.account_a, state="running").count() == 3


def test_the_beat_task_syncs_one_integration_and_records_the_outcome(cast, demo_server):
    port = demo_server.port
    appliance_server.connect(cast.account_a, port=port)
    integration = Integration.objects.filter(account=cast.account_a).first()
    demo_server.appliances[integration.name].system["version"] = "10.10.0"

    message = sync_one(integration.pk)

    integration.refresh_from_db()
    assert "synced" in message and integration.last_sync_ok is True
    assert Appliance.objects.get(pk=integration.options["appliance"]).version == "10.10.0"
