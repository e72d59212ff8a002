"""R12 in a real browser: from a backup alarm to its asset, scroll the recovery points, cancel the running job.

The appliance is the fake Unitrends server on loopback; the portal syncs it through
the real client, so the cancel must travel all the way to the fake appliance.
"""

import os
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from alerts.evaluation import evaluate
from alerts.models import Alert
from fakes.unitrends import (
    FakeAppliance,
    UnitrendsFake,
    populate,
    unitrends_integration,
)
from integrations.unitrends.poller import sync
from inventory.models import Asset, Job
from tests.browser import browser_page, log_in  # noqa: F401 (fixture)
from tests.conftest import PASSWORD, build_cast
from thresholds.models import GlobalThreshold

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DAYS = 40


@pytest.fixture
def appliance_server():
    today = timezone.now().astimezone(UTC).date()
    start = datetime(today.year, today.month, today.day, 22, 0, tzinfo=UTC) - timedelta(days=DAYS)
    appliance = populate(FakeAppliance("acme-ueb-01", "10.8.2"), start=start, days=DAYS)
    for row in appliance.history:
        if row["instance_id"] == 102 and row["sort_start_time"] >= (start + timedelta(days=DAYS - 4)).timestamp():
            row["status"] = "Failed"  # sql-01 has not backed up for days: a backup alarm
    server = UnitrendsFake({"": appliance}).start()
    yield server
    server.stop()


def test_from_an_alert_to_the_asset_scroll_its_recovery_points_and_cancel_its_running_job(
    live_server, browser_page, appliance_server,  # noqa: F811
):
    cast = build_cast()
    GlobalThreshold.objects.create(account=cast.account_a, backups_hours=26, hot_copy_hours=48)
    integration = unitrends_integration(cast.account_a, cast.org_a1, appliance_server)
    sync(integration, timezone.now())
    evaluate(cast.account_a, timezone.now())
    sql = Asset.objects.get(account=cast.account_a, name="sql-01")
    alert = Alert.objects.get(account=cast.account_a, kind="backup_alarm", asset=sql, state="open")
    page = browser_page

    log_in(page, live_server, "admin@a.example", PASSWORD)
    page.goto(f"{live_server.url}/alerts/{alert.pk}/")
    page.click("[data-testid=open-asset]")
    page.wait_for_url(f"{live_server.url}/assets/{sql.pk}/?alert={alert.pk}")

    detail = page.locator("[data-testid=asset-detail]")
    assert "sql-01" in detail.text_content()
    assert "SQL Server database" in page.get_attribute("[data-testid=asset-type]", "title")
    assert "ago" in page.text_content("[data-testid=last-local]")
    assert page.get_attribute("[data-testid=last-copy] .copy-target", "title").startswith("Cold copy")

    points = page.locator("[data-testid=recovery-point]")
    assert points.count() == 25
    for _ in range(5):  # R12.1: older points load as the last row scrolls into view
        page.locator("[data-testid=recovery-point]").last.scroll_into_view_if_needed()
        if points.count() == DAYS + 1:
            break
        page.wait_for_timeout(300)
    assert points.count() == DAYS + 1  # 40 backups and one cold copy
    assert page.locator("[data-testid=more-points]").count() == 0

    job_row = page.locator("[data-testid=running-jobs] [data-testid=job-row]")
    assert "35%" in job_row.text_content()
    job_row.locator("[data-testid=cancel-job]").click()
    page.locator("[data-testid=confirm-dialog] [data-testid=confirm-ok]").click()  # the product's own dialog
    page.wait_for_selector(".flash", state="visible")
    assert "is cancelled" in page.text_content(".flash")
    assert appliance_server.appliance.cancelled == [501]  # it reached the appliance
    assert Job.objects.get(account=cast.account_a, external_id="501").state == "cancelled"
    assert page.locator("[data-testid=running-jobs] [data-testid=job-row]").count() == 0
