"""Written for a person (issue 14 item 6): dates in the person's time zone — their choice, else
their browser's — with how long ago; schedules in words; sizes in GB/TB."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from alerts.evaluation import evaluate
from inventory.models import Backup
from inventory.schedule_words import describe
from tenancy.models import Membership
from tests.browser import log_in
from tests.conftest import PASSWORD, build_cast, make_appliance, make_asset


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_dates_follow_the_browsers_zone_until_the_person_chooses_one(live_server, module_page):
    cast = build_cast()
    make_appliance(cast.account_a, cast.org_a1, "acme-ueb-01", last_contact_at=timezone.now() - timedelta(hours=3))
    evaluate(cast.account_a, timezone.now() - timedelta(hours=2, minutes=30))
    page = module_page.open_page(timezone_id="America/New_York")
    log_in(page, live_server, "admin@a.example", PASSWORD)
    assert {c["name"]: c["value"] for c in page.context.cookies()}["tz"] == "America/New_York"
    page.reload()
    page.locator("[data-testid=group] .group-label").first.click()
    raised = page.locator("[data-testid=raised] time")
    expect(raised).to_have_text("2 h ago")
    assert raised.get_attribute("title").endswith(("EST", "EDT"))

    page.goto(f"{live_server.url}/settings/time-zone/")
    expect(page.locator("[data-testid=time-zone] option").first).to_have_text("Your browser's (America/New_York)")
    page.locator("[data-testid=time-zone]").select_option("Asia/Tokyo")
    page.locator("button[type=submit]", has_text="Save").click()
    expect(page.locator(".flash")).to_have_text("Dates now show in Asia/Tokyo.")
    assert Membership.objects.get(user=cast.admin_a).time_zone == "Asia/Tokyo"
    page.goto(f"{live_server.url}/alerts/")
    page.locator("[data-testid=group] .group-label").first.click()
    assert page.locator("[data-testid=raised] time").get_attribute("title").endswith("JST")


@pytest.mark.django_db
def test_an_unknown_time_zone_is_refused_naming_the_field_and_changes_nothing(client):
    cast = build_cast()
    client.force_login(cast.admin_a)
    response = client.post("/settings/time-zone/", {"time_zone": "Mars/Olympus"})
    assert response.status_code == 400
    assert "Time zone: choose one from the list." in response.content.decode()
    assert Membership.objects.get(user=cast.admin_a).time_zone == ""


@pytest.mark.django_db
def test_the_asset_page_says_its_schedules_in_words_and_sizes_in_gb(client):
    cast = build_cast()
    asset = make_asset(make_appliance(cast.account_a, cast.org_a1, timezone="America/New_York"), "acme-sql-01",
                       rrule="FREQ=DAILY;BYHOUR=21;BYMINUTE=0")
    Backup.objects.create(account=cast.account_a, asset=asset, external_id="1", status="success", type="full",
                          started_at=timezone.now() - timedelta(hours=1), finished_at=timezone.now(), size_bytes=180 * 10**9)
    client.force_login(cast.monitor_a)
    page = client.get(f"/assets/{asset.pk}/").content.decode()
    assert "every day at 21:00 (America/New_York)" in page
    assert "180 GB" in page and "FREQ=" not in page


def test_schedules_in_words():
    assert describe("FREQ=DAILY;BYHOUR=22;BYMINUTE=0", "2026-10-01T22:00:00", "UTC") == "every day at 22:00 (UTC)"
    assert describe("FREQ=WEEKLY;BYDAY=MO,FR;BYHOUR=21;BYMINUTE=30", "", "Europe/Paris") == (
        "every Monday and Friday at 21:30 (Europe/Paris)")
    assert describe("FREQ=WEEKLY;BYDAY=SU;BYHOUR=23;BYMINUTE=0", "") == "every Sunday at 23:00 (UTC)"
    assert describe("FREQ=HOURLY;INTERVAL=4", "2026-10-01T00:00:00") == "every 4 hours (UTC)"
    assert describe("FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=2;BYMINUTE=0", "") == "on the 1st day of every month at 02:00 (UTC)"
    assert describe("FREQ=DAILY;INTERVAL=2", "2026-10-01T06:15:00") == "every 2 days at 06:15 (UTC)"
    assert describe("FREQ=YEARLY;BYEASTER=0", "") == "a custom schedule (FREQ=YEARLY;BYEASTER=0, UTC)"
