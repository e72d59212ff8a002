"""Lists that scale (issue 14 item 7, R11, R13.5): alert groups and deliveries come a page at a
time, the organization and group filters are searchable, deliveries show their times, and a
superuser retries every failed delivery at once."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from alerts.evaluation import evaluate
from alerts.models import Alert, AlertEvent
from notifications.models import Delivery
from tenancy.models import Organization
from tests.browser import log_in
from tests.conftest import PASSWORD, build_cast, make_appliance

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_r11_alert_groups_come_fifty_at_a_time_and_the_organization_filter_is_searchable(live_server, module_page):
    cast = build_cast()
    silent = timezone.now() - timedelta(hours=2)
    for n in range(53):
        org = Organization.objects.create(account=cast.account_a, name=f"Client {n:02d}")
        make_appliance(cast.account_a, org, f"box-{n:02d}", last_contact_at=silent)
    make_appliance(cast.account_a, cast.org_a2, "birch-ueb-01", last_contact_at=silent)
    evaluate(cast.account_a, timezone.now())
    page = module_page
    log_in(page, live_server, "admin@a.example", PASSWORD)
    expect(page.locator("[data-testid=group]")).to_have_count(50)
    page.locator("[data-testid=more-groups]").click()
    # 54 organizations' appliances out of contact, and the vendor incident they make (R17.2)
    expect(page.locator("[data-testid=group]")).to_have_count(55)
    expect(page.locator("[data-testid=more-groups]")).to_have_count(0)

    page.locator("[data-testid=search-organizations]").fill("birc")
    expect(page.locator("#filter-organization")).to_have_value(str(cast.org_a2.pk))
    assert page.locator("#filter-organization option:not([hidden])").all_inner_texts() == ["All organizations", "Birch"]
    page.locator(".filters button[type=submit]").click()
    expect(page.locator("[data-testid=group]")).to_have_count(1)
    expect(page.locator("[data-testid=group]")).to_contain_text("Birch")


def failed_delivery(account, organization, n, created):
    alert = Alert.objects.create(account=account, organization=organization, fingerprint=f"x:{n}", kind="backup_alarm",
                                 subject=f"s{n}", title=f"Alert {n}", group_key="g", group_label="g",
                                 raised_at=created)
    event = AlertEvent.objects.create(account=account, alert=alert, type="raised", at=created)
    delivery = Delivery.objects.create(account=account, event=event, channel="psa", target="1", state="failed",
                                       attempts=5, next_attempt_at=created, last_error="PSA answered 503")
    Delivery.objects.filter(pk=delivery.pk).update(created_at=created)
    return delivery


def test_r13_5_deliveries_show_times_page_and_a_superuser_retries_all_failed(live_server, module_page):
    cast = build_cast()
    now = timezone.now()
    mine = [failed_delivery(cast.account_a, cast.org_a1, n, now - timedelta(hours=60 - n)) for n in range(55)]
    theirs = failed_delivery(cast.account_b, cast.org_b1, 99, now)
    page = module_page
    log_in(page, live_server, "super@a.example", PASSWORD, then="/settings/deliveries/")
    rows = page.locator("[data-testid=deliveries] tbody tr")
    expect(rows).to_have_count(50)
    expect(page.locator(f"[data-testid=delivery-{mine[-1].pk}] [data-testid=delivery-created]")).to_have_text("6 h ago")
    page.locator("[data-testid=older-deliveries]").click()
    expect(rows).to_have_count(5)
    expect(page.locator(f"[data-testid=delivery-{mine[0].pk}] [data-testid=delivery-created]")).to_have_text("2 days ago")

    page.locator("[data-testid=retry-all-failed]").click()
    dialog = page.locator("[data-testid=confirm-dialog]")
    expect(dialog.locator("[data-testid=confirm-question]")).to_have_text("Try all 55 failed deliveries again now?")
    dialog.locator("[data-testid=confirm-ok]").click()
    expect(page.locator(".flash")).to_have_text("55 failed deliveries will be tried again now.")
    assert set(Delivery.objects.filter(account=cast.account_a).values_list("state", flat=True)) == {"pending"}
    assert Delivery.objects.get(pk=theirs.pk).state == "failed"  # another account's stays as it was
    expect(page.locator("[data-testid=retry-all-failed]")).to_have_count(0)


def test_r13_5_an_admin_cannot_retry_all_failed(client):
    cast = build_cast()
    client.force_login(cast.admin_a)
    response = client.post("/settings/deliveries/retry-failed/")
    assert response.status_code == 403
    assert b"Only a superuser retries deliveries." in response.content
