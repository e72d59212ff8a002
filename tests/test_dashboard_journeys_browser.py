"""The dashboard an MSP lives in, in a real browser: confirmations in the product's own dialog,
counts that agree after every dismissal, links that stay in the dashboard, and the product's own
refusal and not-found pages (R2.2, R11.2, R11.3, R12)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from alerts.evaluation import evaluate
from alerts.models import Alert
from tests.browser import log_in
from tests.conftest import PASSWORD, build_cast, make_appliance, make_asset
from thresholds.models import GlobalThreshold

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def offline_cast(**birch_fields):
    """Account A: two silent appliances in Acme, one in Birch; account B: one silent."""
    cast = build_cast()
    silent = timezone.now() - timedelta(hours=2)
    cast.acme_1 = make_appliance(cast.account_a, cast.org_a1, "acme-ueb-01", last_contact_at=silent)
    cast.acme_2 = make_appliance(cast.account_a, cast.org_a1, "acme-ueb-02", last_contact_at=silent)
    cast.birch = make_appliance(cast.account_a, cast.org_a2, "birch-ueb-01", last_contact_at=silent, **birch_fields)
    make_appliance(cast.account_b, cast.org_b1, "other-msp-box", last_contact_at=silent)
    evaluate(cast.account_a, timezone.now())
    evaluate(cast.account_b, timezone.now())
    return cast


def group(page, label):
    return page.locator("[data-testid=group]", has_text=label)


def expect_counts(page, total):
    expect(page.locator("[data-testid=open-total]")).to_have_text(f"{total} open")
    expect(page.locator("#bell-count")).to_have_text(str(total))


def confirm_in_dialog(page, reason=None):
    dialog = page.locator("[data-testid=confirm-dialog]")
    expect(dialog).to_be_visible()
    if reason is not None:
        dialog.locator("[data-testid=confirm-reason]").fill(reason)
    dialog.locator("[data-testid=confirm-ok]").click()
    expect(dialog).to_be_hidden()


def test_r11_2_dismiss_group_asks_in_the_products_dialog_then_dismisses_the_group(live_server, module_page):
    cast = offline_cast()
    page = module_page
    native = []
    page.on("dialog", lambda d: native.append(d.message))
    log_in(page, live_server, "admin@a.example", PASSWORD)
    expect_counts(page, 3)

    group(page, "Acme").locator("[data-testid=dismiss-group]").click()
    dialog = page.locator("[data-testid=confirm-dialog]")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-testid=confirm-question]")).to_contain_text("Dismiss the 2 open alerts of “Acme")
    dialog.locator("[data-testid=confirm-cancel]").click()  # a second thought changes nothing
    expect(dialog).to_be_hidden()
    assert Alert.objects.filter(account=cast.account_a, state="open").count() == 3

    group(page, "Acme").locator("[data-testid=dismiss-group]").click()
    confirm_in_dialog(page, reason="datacentre move")
    expect(group(page, "Acme")).to_have_count(0)
    expect_counts(page, 1)
    expect(page.locator("[data-testid=flash]")).to_have_text("Dismissed 2 alerts in the group.")
    dismissed = Alert.objects.filter(account=cast.account_a, organization=cast.org_a1, state="dismissed")
    assert [a.dismiss_reason for a in dismissed] == ["datacentre move"] * 2
    assert all(a.dismissed_by == cast.admin_a for a in dismissed)
    assert native == []  # no browser confirm() or prompt()


def test_r11_3_a_superuser_dismisses_by_selection_from_beside_the_filters_after_confirming(live_server, module_page):
    cast = offline_cast()
    page = module_page
    log_in(page, live_server, "super@a.example", PASSWORD)
    menu = page.locator(".toolbar [data-testid=dismiss-selection-menu]")
    filters = page.locator(".toolbar form.filters")
    assert abs(menu.bounding_box()["y"] - filters.bounding_box()["y"]) < 80  # beside the filters, not below the list

    menu.locator("summary").click()
    menu.locator("select[name=organization]").select_option(label="Birch")
    menu.locator("[data-testid=dismiss-selection]").click()
    dialog = page.locator("[data-testid=confirm-dialog]")
    expect(dialog).to_be_visible()  # R11.3: confirm first
    expect(dialog.locator("[data-testid=confirm-detail]")).to_contain_text("Organization: Birch")
    dialog.locator("[data-testid=confirm-cancel]").click()
    assert Alert.objects.filter(account=cast.account_a, state="open").count() == 3

    menu.locator("[data-testid=dismiss-selection]").click()
    confirm_in_dialog(page, reason="Birch offboarded")
    expect(page.locator(".flash")).to_have_text("Dismissed 1 alert in the selection.")
    expect_counts(page, 2)
    birch = Alert.objects.get(organization=cast.org_a2)
    assert birch.state == "dismissed" and birch.dismiss_reason == "Birch offboarded"
    assert Alert.objects.get(organization=cast.org_b1).state == "open"


def test_r11_3_an_admin_has_no_dismiss_by_selection(live_server, module_page):
    offline_cast()
    page = module_page
    log_in(page, live_server, "admin@a.example", PASSWORD)
    expect(page.locator("[data-testid=alert-groups]")).to_be_visible()
    expect(page.locator("[data-testid=dismiss-selection-menu]")).to_have_count(0)


def test_r11_2_after_an_inline_dismiss_every_count_agrees_and_an_emptied_group_leaves(live_server, module_page):
    cast = offline_cast()
    page = module_page
    log_in(page, live_server, "admin@a.example", PASSWORD)
    acme = group(page, "Acme")
    acme.locator(".group-label").click()
    acme.locator("[data-testid=alert-row]").first.wait_for()
    acme.locator("[data-testid=dismiss-one]").first.click()
    confirm_in_dialog(page)
    expect(acme.locator("[data-testid=alert-row]")).to_have_count(1)
    expect(acme.locator("[data-testid=group-count]")).to_have_text("1")
    expect_counts(page, 2)
    expect(page.locator("[data-testid=dismiss-all]")).to_be_visible()

    birch = group(page, "Birch")
    birch.locator(".group-label").click()
    birch.locator("[data-testid=dismiss-one]").click()
    confirm_in_dialog(page, reason="replaced")
    expect(birch).to_have_count(0)  # an empty group leaves the page
    expect_counts(page, 1)
    assert Alert.objects.get(appliance=cast.birch).dismiss_reason == "replaced"

    page.reload()  # what the page showed is what the server holds
    expect_counts(page, 1)
    expect(group(page, "Acme").locator("[data-testid=group-count]")).to_have_text("1")


def test_r12_the_alerts_links_lead_to_dashboard_pages_and_never_to_the_api(live_server, module_page):
    cast = offline_cast()
    GlobalThreshold.objects.create(account=cast.account_a, backups_hours=24, hot_copy_hours=24)
    asset = make_asset(make_appliance(cast.account_a, cast.org_a1, "acme-ueb-03"), "acme-sql-01")
    evaluate(cast.account_a, timezone.now())
    page = module_page
    log_in(page, live_server, "super@a.example", PASSWORD)

    offline = Alert.objects.get(appliance=cast.acme_1, kind="appliance_offline")
    page.goto(f"{live_server.url}/alerts/{offline.pk}/")
    page.locator("[data-testid=alert-links] a", has_text="Appliance").click()
    expect(page).to_have_url(f"{live_server.url}/appliances/{cast.acme_1.pk}/")
    detail = page.locator("[data-testid=appliance-detail]")
    expect(detail).to_contain_text("acme-ueb-01")
    expect(detail).to_contain_text("Acme")
    expect(page.locator("[data-testid=appliance-status]")).to_have_text("Offline")
    expect(page.locator("[data-testid=appliance-alerts]")).to_contain_text("has not been in contact")
    expect(page.locator("text=DELETE")).to_have_count(0)

    alarm = Alert.objects.get(asset=asset, kind="backup_alarm")
    page.goto(f"{live_server.url}/alerts/{alarm.pk}/")
    for href in page.locator("[data-testid=alert-links] a").evaluate_all("links => links.map(a => a.href)"):
        assert "/api/" not in href
    page.locator("[data-testid=alert-links] a", has_text="Asset").click()
    expect(page.locator("[data-testid=asset-detail]")).to_contain_text("acme-sql-01")

    response = page.goto(f"{live_server.url}/api/v1/assets/{asset.pk}/")  # the browsable API
    assert response.status == 200
    expect(page.locator("body")).to_contain_text("acme-sql-01")


def test_r2_2_the_upgrade_alert_names_the_appliances_each_linked_to_its_page(live_server, module_page):
    cast = offline_cast(version="9.9")
    make_appliance(cast.account_a, cast.org_a1, "acme-old", version="10.5.0")
    evaluate(cast.account_a, timezone.now())
    upgrade = Alert.objects.get(account=cast.account_a, kind="appliance_upgrade")
    page = module_page
    log_in(page, live_server, "admin@a.example", PASSWORD)
    page.goto(f"{live_server.url}/alerts/{upgrade.pk}/")
    table = page.locator("[data-testid=upgrade-appliances]")
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table).to_contain_text("acme-old")
    expect(table).to_contain_text("10.5.0")
    table.locator("a", has_text="birch-ueb-01").click()
    expect(page).to_have_url(f"{live_server.url}/appliances/{cast.birch.pk}/")
    expect(page.locator("[data-testid=upgrade-hint]")).to_contain_text("older than 10.6.1")


def test_another_accounts_appliance_page_is_the_products_not_found_page(live_server, module_page):
    cast = offline_cast()
    other = make_appliance(cast.account_b, cast.org_b1, "b-box")
    page = module_page
    log_in(page, live_server, "admin@a.example", PASSWORD)
    response = page.goto(f"{live_server.url}/appliances/{other.pk}/")
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("Page not found")
    expect(page.locator("body")).not_to_contain_text("b-box")
    page.locator("header nav a", has_text="Alerts").click()  # the navigation is there
    expect(page).to_have_url(re.compile(r"/alerts/$"))


def test_a_refusal_is_the_products_page_with_the_reason_and_the_navigation(live_server, module_page):
    build_cast()
    page = module_page
    log_in(page, live_server, "monitor@a.example", PASSWORD)
    response = page.goto(f"{live_server.url}/settings/integrations/")
    assert response.status == 403
    expect(page.locator("h1")).to_have_text("Not allowed")
    expect(page.locator("[data-testid=error-403]")).to_contain_text("Only a superuser manages integrations.")
    expect(page.locator("[data-testid=bell]")).to_be_visible()
    page.locator("header nav a", has_text="Alerts").click()
    expect(page).to_have_url(re.compile(r"/alerts/$"))


def test_r11_2_dismiss_all_asks_with_the_count_of_everything_not_only_what_the_filter_shows(live_server, module_page):
    cast = offline_cast()
    page = module_page
    log_in(page, live_server, "admin@a.example", PASSWORD)
    page.goto(f"{live_server.url}/alerts/?organization={cast.org_a2.pk}")
    expect(page.locator("[data-testid=open-total]")).to_have_text("1 open")
    page.locator("[data-testid=dismiss-all]").click()
    expect(page.locator("[data-testid=confirm-question]")).to_have_text(
        "Dismiss all 3 open alerts you can see, not only the 1 shown?"
    )
    confirm_in_dialog(page, reason="storm")
    expect(page.locator("[data-testid=no-alerts]")).to_be_visible()
    expect(page.locator("#bell-count")).to_have_text("0")
    assert set(Alert.objects.filter(account=cast.account_a).values_list("state", "dismiss_reason")) == {("dismissed", "storm")}
    assert Alert.objects.get(account=cast.account_b).state == "open"
