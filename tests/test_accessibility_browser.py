"""Usable by everyone and on a phone (issue 14, item 8): axe-core (vendored in static/vendor/)
run in the real Chromium on the main pages finds no serious or critical violation; at 390 px
no page scrolls sideways and the menu collapses; a skip link, a visible focus, the current
page marked in the menu, and Escape closes menus and dialogs."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from alerts.evaluation import evaluate
from alerts.models import Alert
from tests.browser import PHONE, axe_violations, log_in
from tests.conftest import PASSWORD, build_cast, make_appliance, make_asset
from thresholds.models import GlobalThreshold

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def busy_cast():
    """Account A with an offline appliance, an asset without backups and their alerts."""
    cast = build_cast()
    GlobalThreshold.objects.create(account=cast.account_a, backups_hours=24, hot_copy_hours=24)
    silent = timezone.now() - timedelta(hours=2)
    cast.appliance = make_appliance(
        cast.account_a, cast.org_a1, "acme-ueb-01", last_contact_at=silent,
        logical_capacity_bytes=4 * 10**12, logical_free_bytes=10**12, purge_eligible_backups=3,
    )
    cast.asset = make_asset(cast.appliance, "acme-sql-01")
    make_appliance(cast.account_a, cast.org_a2, "birch-ueb-01", last_contact_at=silent)
    evaluate(cast.account_a, timezone.now())
    cast.alert = Alert.objects.filter(account=cast.account_a).order_by("pk").first()
    return cast


def main_pages(cast):
    return [
        "/", "/alerts/", f"/alerts/{cast.alert.pk}/", f"/assets/{cast.asset.pk}/",
        f"/appliances/{cast.appliance.pk}/", "/organizations/", f"/organizations/{cast.org_a1.pk}/",
        "/jobs/", "/protect/", "/thresholds/", "/settings/alerts/", "/settings/deliveries/", "/audit/",
    ]


def test_axe_finds_no_serious_or_critical_violation_on_the_main_pages(live_server, module_page):
    """R20/issue 14 item 8: WCAG AA contrast (badges included), names and roles on every main page."""
    cast = busy_cast()
    page = module_page
    page.goto(f"{live_server.url}/accounts/login/")
    found = {"/accounts/login/": axe_violations(page, live_server)}
    log_in(page, live_server, "super@a.example", PASSWORD)
    for path in main_pages(cast):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        found[path] = axe_violations(page, live_server)
    failing = {path: v for path, v in found.items() if v}
    assert failing == {}, "\n".join(f"{path}: {line}" for path, lines in failing.items() for line in lines)


def test_at_390_px_no_page_scrolls_sideways_and_the_menu_collapses(live_server, module_page):
    """Issue 14 item 8: usable on a phone — the navigation behind a Menu button, no sideways scroll."""
    cast = busy_cast()
    page = module_page.open_page(viewport=PHONE)
    log_in(page, live_server, "super@a.example", PASSWORD)
    for path in main_pages(cast):
        page.goto(f"{live_server.url}{path}")
        width = page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= 390, f"{path} is {width} px wide"

    page.goto(f"{live_server.url}/alerts/")
    nav = page.locator("#main-nav")
    toggle = page.locator("[data-testid=nav-toggle]")
    expect(nav).to_be_hidden()
    toggle.click()
    expect(nav).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(nav.locator("a[aria-current=page]")).to_have_text("Alerts")
    page.keyboard.press("Escape")  # Escape closes the menu and gives the focus back
    expect(nav).to_be_hidden()
    expect(toggle).to_be_focused()


def test_a_keyboard_user_skips_to_the_content_sees_the_focus_and_escape_closes_menus_and_dialogs(live_server, module_page):
    """Issue 14 item 8: skip link, visible focus, current page marked, Escape closes menus and dialogs."""
    busy_cast()
    page = module_page
    log_in(page, live_server, "admin@a.example", PASSWORD)
    expect(page.locator("#main-nav a[aria-current=page]")).to_have_text("Alerts")
    assert page.locator("#main-nav a[aria-current]").count() == 1

    page.keyboard.press("Tab")
    skip = page.locator("[data-testid=skip-link]")
    expect(skip).to_be_focused()
    outline = skip.evaluate("e => getComputedStyle(e).outlineStyle + ' ' + getComputedStyle(e).outlineWidth")
    assert outline == "solid 3px"  # a visible focus
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    menu = page.locator("[data-testid=settings-menu]")
    menu.locator("summary").click()
    expect(menu.locator(".menu-items")).to_be_visible()
    page.keyboard.press("Escape")
    expect(menu.locator(".menu-items")).to_be_hidden()

    page.locator("[data-testid=dismiss-group]").first.click()
    dialog = page.locator("[data-testid=confirm-dialog]")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert Alert.objects.filter(state="open").count() == Alert.objects.count()  # nothing dismissed
