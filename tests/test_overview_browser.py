"""The landing page (issue 14 item 1, R18.1, R20): open alerts by severity, organizations ranked by
backup compliance with a 30-day sparkline each, the worst assets, what was raised and resolved in
the last 24 hours, and the integrations whose syncs fail — only what the member may see."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from alerts.evaluation import evaluate
from alerts.models import Alert
from integrations.models import Integration
from reports.models import OrganizationDay
from tests.browser import log_in
from tests.conftest import PASSWORD, build_cast, make_appliance, make_asset, record_day

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def history(organization, ratios, today):
    """Daily compliance rows, oldest first, ending today."""
    for i, ratio in enumerate(ratios):
        OrganizationDay.objects.create(account=organization.account, organization=organization,
                                       day=today - timedelta(days=len(ratios) - 1 - i), protected=10,
                                       compliant=round(10 * ratio), ratio=ratio)


def bad_days(asset, states, today):
    for i, state in enumerate(states):
        record_day(asset, today - timedelta(days=i), state)


def overview_cast():
    cast = build_cast()
    now = timezone.now()
    today = timezone.localdate(now)
    silent = now - timedelta(hours=2)
    make_appliance(cast.account_a, cast.org_a1, "acme-ueb-01", last_contact_at=silent)
    box = make_appliance(cast.account_a, cast.org_a2, "birch-ueb-01", last_contact_at=now)
    cast.sql = make_asset(box, "birch-sql-01")
    cast.files = make_asset(box, "birch-fs-01")
    evaluate(cast.account_a, now)
    history(cast.org_a1, [0.9] * 20 + [1.0] * 10, today)
    history(cast.org_a2, [1.0] * 25 + [0.8, 0.6, 0.5, 0.5, 0.5], today)
    bad_days(cast.sql, ["failed", "missed", "failed", "good"], today)
    bad_days(cast.files, ["missed", "good", "good"], today)
    Alert.objects.filter(account=cast.account_a).update(severity="critical")
    Integration.objects.create(account=cast.account_a, kind="spanning_m365", name="Spanning EU", enabled=True,
                               last_sync_ok=False, last_sync_at=now - timedelta(minutes=20),
                               last_error="The credentials were refused (401).")
    Integration.objects.create(account=cast.account_a, kind="spanning_m365", name="Spanning US", enabled=True,
                               last_sync_ok=True)
    other = make_appliance(cast.account_b, cast.org_b1, "b-box", last_contact_at=silent)
    evaluate(cast.account_b, now)
    history(cast.org_b1, [0.1] * 30, today)
    bad_days(make_asset(other, "b-secret"), ["failed"] * 9, today)
    return cast


def test_r20_the_overview_shows_severity_compliance_worst_assets_last_day_and_failing_syncs(live_server, module_page):
    overview_cast()
    page = module_page
    log_in(page, live_server, "super@a.example", PASSWORD, then="/")
    expect(page.locator("#main-nav a[aria-current=page]")).to_have_text("Overview")
    expect(page.locator("[data-testid=severity-critical] .tile-count")).to_have_text("1")
    expect(page.locator("[data-testid=severity-warning] .tile-count")).to_have_text("0")

    rows = page.locator("[data-testid=compliance-row]")
    expect(rows).to_have_count(2)  # account B's organization is not there
    expect(rows.nth(0)).to_contain_text("Birch")  # the least compliant first
    expect(rows.nth(0).locator("[data-testid=compliance-percent]")).to_contain_text("50% (5 of 10)")
    expect(rows.nth(1).locator("[data-testid=compliance-percent]")).to_contain_text("100%")
    spark = rows.nth(0).locator("svg.sparkline")
    assert spark.get_attribute("aria-label").startswith("Birch: compliance over 30 days, 50% compliant on")
    assert spark.locator("polyline").get_attribute("points").count(",") == 30

    worst = page.locator("[data-testid=worst-asset]")
    expect(worst).to_have_count(2)
    expect(worst.nth(0)).to_contain_text("birch-sql-01")
    expect(worst.nth(0)).to_contain_text("3 of 4 days")
    expect(page.locator("[data-testid=overview-worst-assets]")).not_to_contain_text("b-secret")

    expect(page.locator("[data-testid=raised-24h]")).to_have_text("1")
    expect(page.locator("[data-testid=failing-integration]")).to_have_count(1)
    expect(page.locator("[data-testid=failing-integration]")).to_contain_text("The credentials were refused (401).")

    page.locator("[data-testid=severity-critical]").click()
    expect(page).to_have_url(f"{live_server.url}/alerts/?severity=critical")
    expect(page.locator("[data-testid=group]")).to_have_count(1)


def test_r1_4_a_member_limited_to_one_organization_sees_only_its_figures(live_server, module_page):
    overview_cast()
    page = module_page
    log_in(page, live_server, "scoped@a.example", PASSWORD, then="/")
    expect(page.locator("[data-testid=compliance-row]")).to_have_count(1)
    expect(page.locator("[data-testid=compliance-row]")).to_contain_text("Birch")
    expect(page.locator("[data-testid=severity-critical] .tile-count")).to_have_text("0")  # Acme's alert is not theirs
    expect(page.locator("[data-testid=worst-asset]")).to_have_count(2)
