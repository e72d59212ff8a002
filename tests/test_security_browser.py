"""Issue 7 security in a real browser: the strict CSP breaks nothing, Swagger UI still runs."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.evaluation import evaluate
from tests.browser import log_in
from tests.conftest import PASSWORD, build_cast, make_appliance

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_dashboard_runs_htmx_under_the_csp_without_a_single_violation(live_server, browser_page):
    cast = build_cast()
    make_appliance(cast.account_a, cast.org_a1, "acme-ueb-01", last_contact_at=timezone.now() - timedelta(hours=2))
    evaluate(cast.account_a, timezone.now())
    page = browser_page
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)

    log_in(page, live_server, "super@a.example", PASSWORD)
    page.locator("[data-testid=group] summary .group-label").click()  # htmx fetches the rows
    page.locator("[data-testid=alert-row]").wait_for()
    page.goto(f"{live_server.url}/audit/")
    assert page.locator("h1").text_content() == "Audit log"

    page.goto(f"{live_server.url}/api/docs/")
    page.locator(".swagger-ui .info").wait_for()  # Swagger UI rendered the schema
    assert "uniview API" in page.locator(".swagger-ui .info").text_content()
    assert violations == []
