"""The appliance page (issue 14 item 3, R2.2, R12): version with the upgrade hint, status and last
contact, storage in GB/TB with a chart of its use over 30 days, its assets with their last backup,
its open alerts; assets and appliances link from the lists that name them."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from alerts.evaluation import evaluate
from inventory.models import ApplianceStorageSample, Backup, Job
from tests.browser import log_in
from tests.conftest import PASSWORD, build_cast, make_appliance, make_asset
from thresholds.models import GlobalThreshold

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TB = 10**12


def appliance_cast():
    cast = build_cast()
    now = timezone.now()
    GlobalThreshold.objects.create(account=cast.account_a, backups_hours=24, hot_copy_hours=24)
    cast.appliance = make_appliance(
        cast.account_a, cast.org_a1, "acme-ueb-01", version="10.5.0", last_contact_at=now - timedelta(hours=3),
        logical_capacity_bytes=8 * TB, logical_free_bytes=2 * TB, purge_eligible_backups=7,
    )
    cast.sql = make_asset(cast.appliance, "acme-sql-01")
    cast.files = make_asset(cast.appliance, "acme-fs-01")
    Backup.objects.create(account=cast.account_a, asset=cast.files, external_id="b1", status="success",
                          started_at=now - timedelta(hours=5), finished_at=now - timedelta(hours=4))
    for day in range(30):
        ApplianceStorageSample.objects.create(account=cast.account_a, appliance=cast.appliance,
                                              at=now - timedelta(days=29 - day), capacity_bytes=8 * TB,
                                              free_bytes=(4 - day / 15) * TB)
    Job.objects.create(account=cast.account_a, appliance=cast.appliance, asset=cast.sql, external_id="77",
                       state="running", progress_percent=40, started_at=now, details={"name": "sql nightly"})
    evaluate(cast.account_a, now)
    return cast


def test_r12_the_appliance_page_shows_version_status_storage_chart_assets_and_alerts(live_server, module_page):
    cast = appliance_cast()
    page = module_page
    log_in(page, live_server, "admin@a.example", PASSWORD)
    page.goto(f"{live_server.url}/appliances/{cast.appliance.pk}/")
    expect(page.locator("[data-testid=upgrade-hint]")).to_contain_text("older than 10.6.1")  # R2.2
    expect(page.locator("[data-testid=appliance-status]")).to_have_text("Offline")
    expect(page.locator("[data-testid=appliance-contact]")).to_have_text("3 h ago")
    expect(page.locator("[data-testid=storage-capacity]")).to_have_text("8.0 TB")
    expect(page.locator("[data-testid=storage-free]")).to_have_text("2.0 TB")
    expect(page.locator("[data-testid=storage-purge]")).to_have_text("7")
    chart = page.locator("[data-testid=storage-chart] svg")
    expect(chart).to_have_attribute("aria-label", "Storage used over the last 30 days: from 4.0 TB to 5.9 TB of 8.0 TB")
    assert chart.locator("polyline").get_attribute("points").count(",") == 30  # a point a day
    rows = page.locator("[data-testid=appliance-asset]")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="acme-fs-01")).to_contain_text("5 h ago")
    expect(rows.filter(has_text="acme-fs-01")).to_contain_text("Success")
    expect(rows.filter(has_text="acme-sql-01")).to_contain_text("no backup yet")
    expect(page.locator("[data-testid=appliance-alerts]")).to_contain_text("has not been in contact")
    rows.filter(has_text="acme-sql-01").locator("a").click()
    expect(page.locator("[data-testid=asset-detail]")).to_contain_text("acme-sql-01")


def test_assets_and_appliances_link_from_alert_rows_the_organization_page_and_jobs(live_server, module_page):
    cast = appliance_cast()
    page = module_page
    log_in(page, live_server, "admin@a.example", PASSWORD)
    page.locator("[data-testid=group]", has_text="backup").first.locator(".group-label").click()
    page.locator("[data-testid=row-asset]").first.click()
    expect(page.locator("[data-testid=asset-detail]")).to_be_visible()

    page.goto(f"{live_server.url}/organizations/{cast.org_a1.pk}/")
    page.locator("[data-testid=asset] a", has_text="acme-fs-01").click()
    expect(page.locator("[data-testid=asset-detail]")).to_contain_text("acme-fs-01")
    page.goto(f"{live_server.url}/organizations/{cast.org_a1.pk}/")
    page.locator("[data-testid=appliance] a", has_text="acme-ueb-01").click()
    expect(page.locator("[data-testid=appliance-detail]")).to_be_visible()

    page.goto(f"{live_server.url}/jobs/")
    page.locator("[data-testid=job-row] a", has_text="acme-sql-01").click()
    expect(page.locator("[data-testid=asset-detail]")).to_contain_text("acme-sql-01")


def test_the_asset_and_organization_pages_draw_a_30_day_backup_grid(live_server, module_page):
    """Issue 14 item 2: a cell a day, its state in its tooltip and the counts in words."""
    cast = appliance_cast()
    page = module_page
    log_in(page, live_server, "admin@a.example", PASSWORD, then=f"/assets/{cast.files.pk}/")
    grid = page.locator("[data-testid=backup-grid]")
    expect(grid.locator("rect.cell")).to_have_count(30)
    expect(grid.locator("rect.cell-good")).to_have_count(1)
    expect(grid.locator("[data-testid=grid-count-good]")).to_have_text("1")
    assert "good" in grid.locator("svg.grid").get_attribute("aria-label")

    page.goto(f"{live_server.url}/organizations/{cast.org_a1.pk}/")
    rows = page.locator("[data-testid=organization-grid] [data-testid=grid-row]")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="acme-fs-01").locator("rect.cell-good")).to_have_count(1)
    rows.filter(has_text="acme-sql-01").locator("a").click()
    expect(page.locator("[data-testid=asset-detail]")).to_contain_text("acme-sql-01")
