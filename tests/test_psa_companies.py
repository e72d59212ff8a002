"""R19.2: an organization's PSA company is chosen from the companies the PSA lists (searched by
name through its API, cached), auto-mapped by name, and flagged when it disappears."""

import pytest
from django.core.cache import cache

from fakes.psa import make_psa
from notifications import psa_readback
from notifications.models import PsaCompanyMapping, PsaReadBack
from tenancy.models import Organization
from tests.conftest import NOW, api_client
from tests.test_integrations_dashboard import browser

COMPANIES = {501: "ACME, Inc.", 502: "Birch Ltd", 503: "Birch Limited", 504: "Acme Labs"}


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def searches(fake):
    return [c for c in fake.calls() if "compan" in c.path.lower() or "/crm/accounts" in c.path]


def test_r19_2_the_psa_companies_are_searched_by_name_through_its_api_and_cached(cast, psa):
    kind, fake = psa
    fake.companies.update(COMPANIES)
    make_psa(cast.account_a, kind, fake)
    client = api_client(cast.superuser_a)

    answer = client.get("/api/v1/psa/companies/", {"search": "acme"})
    assert answer.status_code == 200
    assert sorted(c["name"] for c in answer.json()["results"]) == ["ACME, Inc.", "Acme Labs"]
    assert {c["id"] for c in answer.json()["results"]} == {"501", "504"}
    calls = len(searches(fake))
    assert client.get("/api/v1/psa/companies/", {"search": "ACME"}).json() == answer.json()
    assert len(searches(fake)) == calls  # the same search again: from the cache, no call


def test_r19_2_a_search_needs_a_superuser_and_a_psa_and_says_which(cast, connectwise_fake):
    connectwise_fake.companies.update(COMPANIES)
    client = api_client(cast.superuser_a)
    assert client.get("/api/v1/psa/companies/", {"search": "acme"}).json() == {"psa": None, "results": []}
    integration = make_psa(cast.account_a, "connectwise", connectwise_fake)
    first = client.get("/api/v1/psa/companies/").json()  # no search: the first companies by name
    assert first["psa"] == {"id": integration.pk, "kind": "connectwise", "name": integration.name}
    assert [c["name"] for c in first["results"]] == ["ACME, Inc.", "Acme Labs", "Birch Limited", "Birch Ltd",
                                                     "Default Company"]
    long = client.get("/api/v1/psa/companies/", {"search": "x" * 101})
    assert long.status_code == 400 and "search" in long.json()["errors"]
    assert api_client(cast.monitor_a).get("/api/v1/psa/companies/", {"search": "a"}).status_code == 403
    connectwise_fake.server_error()
    down = client.get("/api/v1/psa/companies/", {"search": "acme"})
    assert down.status_code == 502 and "did not answer" in down.json()["detail"]


def test_r19_2_the_api_field_takes_only_a_company_the_psa_has(cast, psa):
    kind, fake = psa
    fake.companies.update(COMPANIES)
    make_psa(cast.account_a, kind, fake)
    client = api_client(cast.superuser_a)
    url = f"/api/v1/organizations/{cast.org_a1.pk}/"

    unknown = client.patch(url, {"psa_company": "4242"}, format="json")
    assert unknown.status_code == 400 and "psa_company" in str(unknown.json()) and "no company" in str(unknown.json())
    assert client.patch(url, {"psa_company": "ACME"}, format="json").status_code == 400
    assert not PsaCompanyMapping.objects.exists()

    assert client.patch(url, {"psa_company": "501"}, format="json").json()["psa_company"] == "501"
    assert PsaCompanyMapping.objects.get().company_name == "ACME, Inc."

    fake.server_error()  # the PSA cannot say: a script's id is kept, the daily check judges it
    assert client.patch(url, {"psa_company": "777"}, format="json").status_code == 200


def test_r19_2_auto_map_maps_exact_and_normalized_names_and_says_what_it_did(cast, psa):
    kind, fake = psa
    fake.companies.update(COMPANIES)
    make_psa(cast.account_a, kind, fake)
    Organization.objects.create(account=cast.account_a, name="Cedar")
    kept = Organization.objects.create(account=cast.account_a, name="Dune")
    PsaCompanyMapping.objects.create(account=cast.account_a, organization=kept, company="77")

    report = api_client(cast.superuser_a).post("/api/v1/psa/companies/auto-map/").json()

    assert report["mapped"] == [{"organization": "Acme", "company": "ACME, Inc."}]
    assert report["ambiguous"] == ["Birch"] and report["not_found"] == ["Cedar"] and report["kept"] == 1
    assert "Mapped 1 organization: Acme → ACME, Inc.." in report["summary"]
    assert dict(PsaCompanyMapping.objects.values_list("organization__name", "company")) == {"Acme": "501", "Dune": "77"}
    assert not PsaCompanyMapping.objects.filter(organization=cast.org_b1).exists()  # another account's Acme


def test_r19_2_auto_map_in_the_dashboard_reports_on_the_page(cast, connectwise_fake):
    connectwise_fake.companies.update(COMPANIES)
    make_psa(cast.account_a, "connectwise", connectwise_fake)
    client = browser(cast.superuser_a)
    page = client.post("/settings/psa-companies/auto-map/", follow=True).content.decode()
    assert "Mapped 1 organization: Acme → ACME, Inc.." in page
    assert "Several companies match, choose by hand: Birch." in page
    assert browser(cast.admin_a).post("/settings/psa-companies/auto-map/").status_code == 403


def test_r19_2_the_companies_page_saves_a_picked_company_and_refuses_one_the_psa_lacks(cast, connectwise_fake):
    connectwise_fake.companies.update(COMPANIES)
    make_psa(cast.account_a, "connectwise", connectwise_fake)
    client = browser(cast.superuser_a)
    choices = client.get(f"/settings/psa-companies/{cast.org_a2.pk}/search/", {"q": "birch"}).content.decode()
    assert 'value="502"' in choices and "Birch Limited" in choices and "2 found" in choices

    client.post("/settings/psa-companies/", {f"company_{cast.org_a2.pk}": "502"})
    mapping = PsaCompanyMapping.objects.get()
    assert (mapping.organization, mapping.company, mapping.company_name) == (cast.org_a2, "502", "Birch Ltd")

    refused = client.post("/settings/psa-companies/", {f"company_{cast.org_a1.pk}": "4242"})
    assert refused.status_code == 200 and "no such company" in refused.content.decode()
    assert PsaCompanyMapping.objects.count() == 1
    page = client.get("/settings/psa-companies/").content.decode()
    assert "Birch Ltd" in page and 'type="search"' in page  # picked by name, not typed
    assert client.get(f"/settings/psa-companies/{cast.org_b1.pk}/search/", {"q": "a"}).status_code == 404


def test_r19_2_the_organization_page_offers_the_picker_and_names_the_company(cast, connectwise_fake):
    connectwise_fake.companies.update(COMPANIES)
    make_psa(cast.account_a, "connectwise", connectwise_fake)
    client = browser(cast.superuser_a)
    client.post(f"/settings/psa-companies/{cast.org_a1.pk}/", {f"company_{cast.org_a1.pk}": "504"})
    page = client.get(f"/organizations/{cast.org_a1.pk}/").content.decode()
    assert 'data-testid="psa-company-panel"' in page and "Acme Labs" in page
    assert 'data-testid="psa-company-panel"' not in browser(cast.admin_a).get(
        f"/organizations/{cast.org_a1.pk}/").content.decode()


def test_r19_2_a_mapping_whose_company_disappears_in_the_psa_is_flagged(cast, psa):
    kind, fake = psa
    fake.companies.update(COMPANIES)
    integration = make_psa(cast.account_a, kind, fake)
    api_client(cast.superuser_a).patch(f"/api/v1/organizations/{cast.org_a1.pk}/", {"psa_company": "504"},
                                       format="json")
    del fake.companies[504]

    psa_readback.read_back(integration, NOW)  # the daily check runs with the read-back
    mapping = PsaCompanyMapping.objects.get()
    assert mapping.missing_since == NOW
    organization = api_client(cast.superuser_a).get(f"/api/v1/organizations/{cast.org_a1.pk}/").json()
    assert organization["psa_company"] == "504" and organization["psa_company_missing_since"].startswith("2026-11-02")
    client = browser(cast.superuser_a)
    assert "no longer in the PSA" in client.get(f"/organizations/{cast.org_a1.pk}/").content.decode()
    assert 'data-testid="psa-company-missing"' in client.get("/settings/psa-companies/").content.decode()

    fake.companies[504] = "Acme Labs Group"
    PsaReadBack.objects.filter(integration=integration).update(companies_checked_at=None)
    psa_readback.read_back(integration, NOW)
    mapping.refresh_from_db()
    assert mapping.missing_since is None and mapping.company_name == "Acme Labs Group"
    listed = api_client(cast.superuser_a).get("/api/v1/organizations/").json()["results"]
    assert [o["psa_company_missing_since"] for o in listed if o["id"] == cast.org_a1.pk] == [None]
