"""The appliance page's storage chart reads one storage sample an hour per appliance, recorded by
the poller against the fake appliance over HTTP, and retention deletes the old ones."""

from datetime import timedelta

from fakes.unitrends import unitrends_integration
from integrations.unitrends.client import UnitrendsClient
from integrations.unitrends.poller import sync
from inventory.appliance_facts import storage_chart
from inventory.models import Appliance, ApplianceStorageSample
from observability import retention
from tests.conftest import NOW


def test_each_poll_records_at_most_one_storage_sample_an_hour(cast, unitrends_fake):
    integration = unitrends_integration(cast.account_a, cast.org_a1, unitrends_fake)
    client = UnitrendsClient.for_integration(integration, retries=0)
    for minutes in (0, 5, 30, 65):
        sync(integration, NOW + timedelta(minutes=minutes), client)
    samples = list(ApplianceStorageSample.objects.order_by("at"))
    assert [s.at for s in samples] == [NOW, NOW + timedelta(minutes=65)]
    appliance = Appliance.objects.get()
    assert samples[0].capacity_bytes == appliance.logical_capacity_bytes == 4_000_000 * 1024**2
    assert samples[0].free_bytes == appliance.logical_free_bytes
    assert samples[0].account_id == cast.account_a.pk

    chart = storage_chart(appliance, NOW + timedelta(hours=2))
    assert chart.startswith("<svg") and "<polyline" in chart
    assert "Storage used over the last 30 days: from" in chart  # said in words for a screen reader


def test_retention_deletes_storage_samples_older_than_their_age(cast, settings):
    settings.RETENTION_STORAGE_SAMPLE_DAYS = 30
    appliance = Appliance.objects.create(account=cast.account_a, organization=cast.org_a1, external_id="x", name="x")
    for days in (45, 31, 29, 1):
        ApplianceStorageSample.objects.create(account=cast.account_a, appliance=appliance, at=NOW - timedelta(days=days),
                                              capacity_bytes=100, free_bytes=50)
    result = {p.what: p for p in retention.prune(NOW)}
    assert result["appliance storage samples"].deleted == 2
    assert sorted((NOW - s.at).days for s in ApplianceStorageSample.objects.all()) == [1, 29]
