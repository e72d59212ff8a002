"""The Protect pages (issue 14 item 9, R8.1, R9.3): "Sync now" followed on the job's page until
a real worker has done it, and unmapped sources offered the organization their name suggests."""

import pytest
from playwright.sync_api import expect

from fakes.datto import asset
from integrations.models import Integration
from integrations.suggestions import suggest
from inventory.models import DattoClient, SaasSource
from tenancy.models import Organization
from tests.browser import log_in
from tests.conftest import PASSWORD, build_cast
from tests.workers import Worker, flush_broker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_r9_3_sync_now_from_the_protect_page_shows_the_jobs_progress_until_done(live_server, module_page, datto_fake,
                                                                                  tmp_path):
    cast = build_cast()
    datto_fake.clients = [{"id": 1, "name": "Acme"}]
    datto_fake.assets = {"1": [asset("vm-1", "web")]}
    Integration.objects.create(account=cast.account_a, kind="datto", name="Datto EU", base_url=datto_fake.url + "/v1",
                               credentials={"public_key": datto_fake.username, "secret_key": datto_fake.secret})
    flush_broker()
    page = module_page
    log_in(page, live_server, "super@a.example", PASSWORD, then="/protect/")
    row = page.locator("[data-testid=protect-integration]", has_text="Datto EU")
    expect(row).to_contain_text("never")
    row.locator("[data-testid=protect-sync-now]").click()
    page.wait_for_url(f"{live_server.url}/settings/background-jobs/*/")
    expect(page.locator("[data-testid=job-status]")).to_have_attribute("data-state", "queued")  # no worker yet
    worker = Worker(tmp_path / "worker.log").start()
    try:  # the page is not reloaded: it follows the job until the worker has done it
        expect(page.locator("[data-testid=job-status]")).to_have_attribute("data-state", "done", timeout=30000)
    finally:
        worker.stop()
    assert DattoClient.objects.filter(account=cast.account_a, name="Acme").exists()
    page.goto(f"{live_server.url}/protect/")
    expect(page.locator("[data-testid=protect-integration]", has_text="Datto EU")).to_contain_text("ok")


def test_r8_1_an_unmapped_source_is_offered_the_organization_its_name_suggests(live_server, module_page):
    cast = build_cast()
    acme_tenant = SaasSource.objects.create(account=cast.account_a, kind="m365", name="acme.onmicrosoft.com",
                                            external_id="t-1")
    SaasSource.objects.create(account=cast.account_a, kind="m365", name="zeta-industries.onmicrosoft.com",
                              external_id="t-2")
    page = module_page
    log_in(page, live_server, "super@a.example", PASSWORD, then="/protect/m365/")
    offered = page.locator("[data-testid=suggestion]")
    expect(offered).to_have_count(1)  # nothing looks like Zeta
    expect(offered).to_contain_text("Map to Acme")
    offered.locator("button").click()
    expect(page.locator(".flash")).to_have_text("acme.onmicrosoft.com is now mapped to Acme.")
    acme_tenant.refresh_from_db()
    assert acme_tenant.organization == cast.org_a1
    expect(page.locator("[data-testid=suggestion]")).to_have_count(0)


def test_suggestions_by_name_match_words_and_near_spellings_never_a_poor_match():
    build_cast_free = [Organization(name=n) for n in ("Acme", "Birch & Sons", "Contoso Ltd")]
    assert suggest("acme.onmicrosoft.com", build_cast_free).name == "Acme"
    assert suggest("birch-sons.com", build_cast_free).name == "Birch & Sons"
    assert suggest("CONTOSO", build_cast_free).name == "Contoso Ltd"
    assert suggest("contosso.onmicrosoft.com", build_cast_free).name == "Contoso Ltd"  # a near spelling
    assert suggest("zeta-industries.com", build_cast_free) is None
    assert suggest("", build_cast_free) is None
