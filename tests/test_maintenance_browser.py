"""Maintenance windows in a real browser (R16.1, R20.1): a superuser types a Sunday window in
New York and sees the next five occurrences update as they type, saves it, finds it in the
list with its next occurrence, and deletes it through the product's confirmation dialog."""

import pytest
from playwright.sync_api import expect

from maintenance.models import MaintenanceWindow
from tests.browser import log_in
from tests.conftest import PASSWORD, build_cast

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_r16_1_a_superuser_previews_saves_and_deletes_a_recurring_window(live_server, browser_page, tmp_path):
    build_cast()
    page = browser_page
    log_in(page, live_server, "super@a.example", PASSWORD)

    page.click("nav >> text=Maintenance")
    page.click("[data-testid=new-window]")
    page.fill("input[name=name]", "Sunday patching")
    page.fill("[data-testid=timezone]", "America/New_York")
    page.fill("[data-testid=starts-at]", "2026-10-25T01:00")
    page.check("[data-testid=recurring]")
    page.fill("[data-testid=rrule]", "FREQ=WEEKLY;BYDAY=SU")
    page.fill("[data-testid=duration]", "240")
    rows = page.locator("[data-testid=preview-occurrence]")
    expect(rows).to_have_count(5)  # htmx answered the live preview
    assert all("01:00" in text and "05:00" in text for text in rows.all_text_contents())

    page.fill("[data-testid=rrule]", "FREQ=SOMETIMES")
    expect(page.locator("#window-preview .error")).to_contain_text("Rrule")
    page.fill("[data-testid=rrule]", "FREQ=WEEKLY;BYDAY=SU")
    expect(rows).to_have_count(5)
    page.click("[data-testid=save-window]")
    expect(page.locator("[data-testid=maintenance-window]")).to_have_count(1)
    expect(page.locator("[data-testid=next-occurrence]")).to_contain_text("01:00")
    page.screenshot(path=str(tmp_path / "maintenance-list.png"), full_page=True)
    assert MaintenanceWindow.objects.get().duration_minutes == 240

    page.click("[data-testid=delete-window]")
    dialog = page.locator("[data-testid=confirm-dialog]")
    expect(dialog).to_be_visible()
    expect(page.locator("[data-testid=confirm-question]")).to_contain_text("Sunday patching")
    page.click("[data-testid=confirm-ok]")
    expect(page.locator("[data-testid=no-windows]")).to_be_visible()
    assert not MaintenanceWindow.objects.exists()
