"""R19.2 in a real browser: a superuser picks an organization's PSA company by name, searched
through the PSA's API (a fake ConnectWise on loopback), never typing its id."""

import pytest

from fakes.psa import ConnectWiseFake, make_psa
from notifications.models import PsaCompanyMapping
from tests.browser import log_in
from tests.conftest import PASSWORD, build_cast

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_r19_2_a_superuser_picks_a_company_by_name_on_the_psa_companies_page(live_server, browser_page):
    fake = ConnectWiseFake().start()
    try:
        fake.companies.update({501: "Acme Industries", 502: "Birch Ltd", 503: "Acme Labs"})
        cast = build_cast()
        make_psa(cast.account_a, "connectwise", fake)
        page = browser_page
        log_in(page, live_server, "super@a.example", PASSWORD)
        page.goto(f"{live_server.url}/settings/psa-companies/")

        page.fill(f"[data-testid=psa-company-search-{cast.org_a1.pk}]", "acme")
        choice = page.locator(f"[data-testid=psa-company-choice-{cast.org_a1.pk}]")
        choice.locator("option", has_text="Acme Labs").wait_for(state="attached")
        assert choice.locator("option").all_text_contents() == [
            "The PSA integration's default company", "Acme Industries", "Acme Labs",
        ]
        choice.select_option(label="Acme Labs")
        page.click("button.primary:has-text('Save')")
        page.wait_for_selector("text=Saved the PSA companies (1 changed).")

        mapping = PsaCompanyMapping.objects.get()
        assert (mapping.organization_id, mapping.company, mapping.company_name) == (cast.org_a1.pk, "503", "Acme Labs")
        assert "Acme Labs" in page.locator(f"[data-testid=psa-company-choice-{cast.org_a1.pk}]").text_content()

        page.goto(f"{live_server.url}/organizations/{cast.org_a1.pk}/")
        assert "Acme Labs" in page.locator("[data-testid=extension]", has_text="Acme Labs").text_content()
    finally:
        fake.stop()
