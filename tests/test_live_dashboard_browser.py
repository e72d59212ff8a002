"""A dashboard that keeps up by itself (issue 14 item 5, R11): the bell, the alert list and the
running jobs refresh without a reload, keeping the open groups and the filters; every
confirmation is the product's own dialog, never the browser's confirm() or prompt()."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from alerts.evaluation import evaluate
from inventory.models import Job
from notifications.models import VsaEmailAction
from tests.browser import log_in
from tests.conftest import PASSWORD, build_cast, make_appliance

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def silent(cast, organization, name):
    make_appliance(cast.account_a, organization, name, last_contact_at=timezone.now() - timedelta(hours=2))
    evaluate(cast.account_a, timezone.now())


@pytest.fixture
def quick_refresh(settings):
    settings.DASHBOARD_REFRESH_SECONDS = 1


def test_r11_the_alert_list_and_the_bell_refresh_themselves_keeping_open_groups_and_filters(
        live_server, module_page, quick_refresh):
    cast = build_cast()
    silent(cast, cast.org_a1, "acme-ueb-01")
    page = module_page
    log_in(page, live_server, "admin@a.example", PASSWORD, then=f"/alerts/?organization={cast.org_a1.pk}")
    group = page.locator("[data-testid=group]", has_text="Acme")
    group.locator(".group-label").click()
    expect(group.locator("[data-testid=alert-row]")).to_have_count(1)

    silent(cast, cast.org_a1, "acme-ueb-02")  # raised while the page is open
    silent(cast, cast.org_a2, "birch-ueb-01")  # another organization: the bell only
    expect(group.locator("[data-testid=group-count]")).to_have_text("2")
    expect(group.locator("[data-testid=alert-row]")).to_have_count(2)  # still open, its rows fresh
    expect(page.locator("[data-testid=open-total]")).to_have_text("2 open")
    expect(page.locator("#bell-count")).to_have_text("3")
    expect(page.locator("[data-testid=group]", has_text="Birch")).to_have_count(0)  # the filter holds
    expect(page.locator(".filters select[name=organization]")).to_have_value(str(cast.org_a1.pk))
    assert page.url.endswith(f"/alerts/?organization={cast.org_a1.pk}")  # never reloaded


def test_the_bell_refreshes_on_every_page_and_running_jobs_come_and_go_by_themselves(
        live_server, module_page, quick_refresh):
    cast = build_cast()
    appliance = make_appliance(cast.account_a, cast.org_a1, "acme-ueb-01", last_contact_at=timezone.now())
    page = module_page
    log_in(page, live_server, "admin@a.example", PASSWORD, then="/jobs/")
    expect(page.locator("[data-testid=no-jobs]")).to_be_visible()
    job = Job.objects.create(account=cast.account_a, appliance=appliance, external_id="9", state="running",
                             progress_percent=10, started_at=timezone.now(), details={"name": "nightly"})
    expect(page.locator("[data-testid=job-row]")).to_have_count(1)
    Job.objects.filter(pk=job.pk).update(progress_percent=60)
    expect(page.locator("[data-testid=job-row] progress")).to_have_attribute("value", "60")
    Job.objects.filter(pk=job.pk).update(state="finished")
    expect(page.locator("[data-testid=no-jobs]")).to_be_visible()

    expect(page.locator("#bell-count")).to_have_text("0")
    silent(cast, cast.org_a1, "acme-ueb-02")
    expect(page.locator("#bell-count")).to_have_text("1")


def test_a_plain_form_confirms_in_the_products_dialog_not_the_browsers(live_server, module_page):
    cast = build_cast()
    action = VsaEmailAction.objects.create(account=cast.account_a, owner=cast.admin_a, area="backups",
                                           recipients=["noc@a.example"])
    page = module_page
    native = []
    page.on("dialog", lambda dialog: native.append(dialog.message))
    log_in(page, live_server, "admin@a.example", PASSWORD, then="/settings/vsa-email-actions/")
    remove = page.locator(f"[data-testid=vsa-action-{action.pk}] button", has_text="Remove")
    remove.click()
    dialog = page.locator("[data-testid=confirm-dialog]")
    expect(dialog.locator("[data-testid=confirm-question]")).to_have_text("Remove this VSA email action?")
    dialog.locator("[data-testid=confirm-cancel]").click()
    assert VsaEmailAction.objects.filter(pk=action.pk).exists()
    remove.click()
    dialog.locator("[data-testid=confirm-ok]").click()
    expect(page.locator(f"[data-testid=vsa-action-{action.pk}]")).to_have_count(0)
    assert not VsaEmailAction.objects.filter(pk=action.pk).exists()
    assert native == []
