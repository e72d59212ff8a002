"""The first journey in a real browser: log in, see the offline-appliance alert, dismiss it, see it gone."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.evaluation import evaluate
from alerts.models import Alert
from tests.browser import log_in
from tests.conftest import PASSWORD, build_cast, make_appliance

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_logs_in_sees_the_offline_appliance_and_dismisses_it(live_server, browser_page):
    cast = build_cast()
    make_appliance(cast.account_a, cast.org_a1, "acme-ueb-01", last_contact_at=timezone.now() - timedelta(hours=2))
    make_appliance(cast.account_b, cast.org_b1, "other-msp-box", last_contact_at=timezone.now() - timedelta(hours=2))
    evaluate(cast.account_a, timezone.now())
    evaluate(cast.account_b, timezone.now())
    page = browser_page

    log_in(page, live_server, "admin@a.example", PASSWORD)
    assert page.text_content("#bell-count").strip() == "1"
    group = page.locator("[data-testid=group]")
    assert group.count() == 1
    assert "Acme" in group.text_content() and "Appliance offline" in group.text_content()
    assert "other-msp-box" not in page.content()  # R1.1

    group.locator("summary .group-label").click()
    row = page.locator("[data-testid=alert-row]")
    row.wait_for()
    assert "acme-ueb-01" in row.text_content()

    row.locator("[data-testid=dismiss-one]").click()
    page.locator("[data-testid=confirm-dialog] [data-testid=confirm-ok]").click()  # the product's own dialog
    row.wait_for(state="detached")
    page.wait_for_function("document.querySelector('#bell-count').textContent.trim() === '0'")

    page.reload()
    assert page.locator("[data-testid=no-alerts]").is_visible()
    alert = Alert.objects.get(account=cast.account_a)
    assert alert.state == "dismissed" and alert.dismissed_by == cast.admin_a


def test_a_monitor_sees_alerts_but_no_dismiss_buttons(live_server, browser_page):
    cast = build_cast()
    make_appliance(cast.account_a, cast.org_a1, "acme-ueb-01", last_contact_at=timezone.now() - timedelta(hours=2))
    evaluate(cast.account_a, timezone.now())
    page = browser_page
    log_in(page, live_server, "monitor@a.example", PASSWORD)
    page.locator("[data-testid=group] summary .group-label").click()
    page.locator("[data-testid=alert-row]").wait_for()
    assert page.locator("[data-testid=dismiss-one]").count() == 0
    assert page.locator("[data-testid=dismiss-all]").count() == 0
