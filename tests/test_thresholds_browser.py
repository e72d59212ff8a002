"""The conditional alarms page in a real browser: a superuser sets the global threshold,
creates a custom one, finds an organization with the search box and assigns it (R4)."""

import pytest
from playwright.sync_api import expect

from tests.browser import log_in
from tests.conftest import PASSWORD, build_cast
from thresholds.effective import effective_threshold

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_superuser_sets_thresholds_and_assigns_an_organization_found_by_search(live_server, browser_page, tmp_path):
    cast = build_cast()
    page = browser_page
    log_in(page, live_server, "super@a.example", PASSWORD)

    page.click("nav >> text=Conditional alarms")
    page.fill("input[name=backups_hours]", "0")
    page.click("text=Save global thresholds")
    assert "Backups hours: Hours must be a whole number from 1 to 8760." in page.text_content("[data-testid=error-backups_hours]")
    page.fill("input[name=backups_hours]", "24")
    page.click("text=Save global thresholds")
    assert "Global thresholds saved" in page.text_content(".flash")

    page.click("text=New custom threshold")
    page.fill("input[name=name]", "Servers")
    page.fill("input[name=backups_hours]", "4")
    page.click("button:has-text('Save')")
    page.fill("[data-testid=org-search]", "bir")
    expect(page.locator("[data-testid=org-row]")).to_have_count(1)  # htmx swapped the list
    page.click("[data-testid=org-row] >> text=Assign")
    page.locator("[data-testid=assigned]").wait_for()
    page.screenshot(path=str(tmp_path / "custom-threshold.png"), full_page=True)
    assert effective_threshold(cast.org_a2).backups_label == "4 h — custom threshold 'Servers'"
    assert effective_threshold(cast.org_a1).backups_label == "24 h — global"
