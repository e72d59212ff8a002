"""R12 in the dashboard: the asset page from an alert, recovery points paged on scroll, jobs."""

from datetime import timedelta

import pytest

from alerts.conditions import Condition
from alerts.reconciler import raise_alerts
from inventory.models import Backup, Job
from inventory.views import POINTS_PER_PAGE
from tests.conftest import NOW, make_appliance, make_asset


@pytest.fixture
def asset(cast):
    appliance = make_appliance(cast.account_a, cast.org_a1, "ueb-01")
    asset = make_asset(appliance, "fs-01", type="vmware")
    Backup.objects.bulk_create([
        Backup(account=cast.account_a, asset=asset, external_id=str(n), type="incremental",
               status="failed" if n == 0 else "success", started_at=NOW - timedelta(hours=n),
               finished_at=NOW - timedelta(hours=n) + timedelta(minutes=20), size_bytes=n * 1024**2,
               error="Snapshot failed" if n == 0 else "")
        for n in range(POINTS_PER_PAGE + 5)
    ])
    return asset


def test_r12_1_an_alert_on_an_asset_links_to_its_detail(cast, client, asset):
    condition = Condition(kind="backup_alarm", subject=f"asset:{asset.pk}", title="fs-01 missed its backup",
                          organization_id=asset.organization_id, asset_id=asset.pk)
    alert = raise_alerts(cast.account_a, [condition], NOW)[0]
    client.force_login(cast.monitor_a)
    page = client.get(f"/alerts/{alert.pk}/").content.decode()
    assert f"/assets/{asset.pk}/?alert={alert.pk}" in page


def test_r12_1_the_asset_page_shows_facts_legend_and_the_first_page_with_a_scroll_trigger(cast, client, asset):
    client.force_login(cast.monitor_a)
    page = client.get(f"/assets/{asset.pk}/").content.decode()
    assert "VMware virtual machine" in page and "fs-01" in page and 'title="VMware virtual machine:' in page
    assert page.count('data-testid="recovery-point"') == POINTS_PER_PAGE
    assert 'hx-trigger="revealed"' in page and 'data-testid="legend"' in page
    assert "✖" in page  # the failed backup's status icon


def test_r12_1_the_next_page_continues_where_the_first_ended(cast, client, asset):
    client.force_login(cast.monitor_a)
    page = client.get(f"/assets/{asset.pk}/").content.decode()
    next_url = page.split('data-testid="more-points" hx-get="')[1].split('"')[0].replace("&amp;", "&")
    rest = client.get(next_url).content.decode()
    assert rest.count('data-testid="recovery-point"') == 5 and 'hx-trigger="revealed"' not in rest


def test_r12_2_a_recovery_point_opens_its_job_details(cast, client, asset):
    failed = Backup.objects.get(asset=asset, external_id="0")
    client.force_login(cast.monitor_a)
    page = client.get(f"/assets/{asset.pk}/recovery-points/backup-{failed.pk}/").content.decode()
    assert "Snapshot failed" in page and "Failed: no usable recovery point." in page
    assert client.get(f"/assets/{asset.pk}/recovery-points/tape-{failed.pk}/").status_code == 404


def test_r1_1_another_accounts_asset_is_404_in_the_dashboard(cast, client, asset):
    client.force_login(cast.superuser_b)
    assert client.get(f"/assets/{asset.pk}/").status_code == 404
    assert client.get(f"/assets/{asset.pk}/recovery-points/").status_code == 404


def test_r12_2_see_all_lists_every_active_job_and_a_monitor_gets_no_cancel_button(cast, client, asset):
    for n, state in enumerate(["running", "queued", "finished"]):
        Job.objects.create(account=cast.account_a, appliance=asset.appliance, asset=asset, external_id=str(n),
                           state=state, details={"name": f"Job {state}"})
    other = make_appliance(cast.account_b, cast.org_b1, "other-box")
    Job.objects.create(account=cast.account_b, appliance=other, external_id="9", state="running",
                       details={"name": "Other MSP job"})
    client.force_login(cast.monitor_a)
    page = client.get("/jobs/").content.decode()
    assert "Job running" in page and "Job queued" in page and "Job finished" not in page
    assert "Other MSP job" not in page and 'data-testid="cancel-job"' not in page
    job = Job.objects.get(external_id="0", account=cast.account_a)
    assert client.post(f"/jobs/{job.pk}/cancel/").status_code == 403
