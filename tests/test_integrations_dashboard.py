"""Settings > Integrations, Deliveries and VSA email actions in the dashboard (R13.3–R13.5, R1.3)."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from alerts.evaluation import evaluate
from fakes.psa import make_psa
from fakes.vsa import VsaFake
from integrations.models import Integration
from notifications.models import Delivery, PsaCompanyMapping, VsaEmailAction
from tests.conftest import NOW, make_appliance


def browser(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def cw(cast, connectwise_fake):
    fake = connectwise_fake
    yield fake


def test_r13_3_add_a_psa_then_show_its_configuration_masked(cast, cw):
    client = browser(cast.superuser_a)
    page = client.get("/settings/integrations/add/?kind=connectwise")
    assert page.status_code == 200 and b"Private key" in page.content and b"Close the ticket" in page.content
    form = {"kind": "connectwise", "name": "Our CW", "base_url": cw.url, "enabled": "on",
            **{f"credential_{k}": v for k, v in cw.credentials().items()},
            "option_default_company": "77", "option_board": "1", "option_close_on_resolve": "on",
            "option_closed_status": "9"}
    response = client.post("/settings/integrations/add/", form)
    assert response.status_code == 302
    integration = Integration.objects.get()
    assert integration.account == cast.account_a and integration.credentials["private_key"] == "priv"
    assert integration.options["close_on_resolve"] is True and integration.options["default_company"] == "77"

    listing = client.get("/settings/integrations/").content.decode()
    assert "Show configuration" in listing and "Our CW" in listing
    assert "priv" not in listing.replace("private_key", "")  # the secret is never shown in full
    assert integration.masked_credentials()["private_key"] in listing


def test_r13_3_edit_with_a_blank_secret_keeps_the_stored_one(cast, cw):
    integration = make_psa(cast.account_a, "connectwise", cw)
    client = browser(cast.superuser_a)
    page = client.get(f"/settings/integrations/{integration.pk}/edit/").content.decode()
    assert 'value="priv"' not in page
    form = {"name": "Renamed", "base_url": cw.url, "enabled": "on", "credential_company_id": "",
            "credential_public_key": "", "credential_private_key": "", "credential_client_id": "",
            "option_default_company": "88", "option_board": "1"}
    assert client.post(f"/settings/integrations/{integration.pk}/edit/", form).status_code == 302
    integration.refresh_from_db()
    assert integration.name == "Renamed" and integration.credentials == cw.credentials()
    assert integration.options["default_company"] == "88"


def test_missing_credentials_are_a_form_error_and_nothing_is_saved(cast):
    response = browser(cast.superuser_a).post("/settings/integrations/add/", {
        "kind": "autotask", "name": "AT", "credential_username": "u"})
    assert response.status_code == 200 and b"This field is required" in response.content
    assert not Integration.objects.exists()


def test_r13_3_test_connection_reports_success_and_failure(cast, cw):
    integration = make_psa(cast.account_a, "connectwise", cw)
    client = browser(cast.superuser_a)
    page = client.post(f"/settings/integrations/{integration.pk}/test/", follow=True).content.decode()
    assert "Connected to ConnectWise Manage" in page
    cw.server_error()
    page = client.post(f"/settings/integrations/{integration.pk}/test/", follow=True).content.decode()
    assert "server error 503" in page


def test_r13_4_a_vsa_10_cannot_be_added_from_the_dashboard(cast):
    fake = VsaFake(version="10.1.0.2").start()
    try:
        response = browser(cast.superuser_a).post("/settings/integrations/add/", {
            "kind": "vsa9", "name": "VSA", "base_url": fake.url, "enabled": "on",
            "credential_username": fake.username, "credential_token": fake.token})
        assert response.status_code == 200 and b"VSA 10 is not supported" in response.content
        assert not Integration.objects.exists()
    finally:
        fake.stop()


def test_remove_asks_for_confirmation_then_removes(cast, cw):
    integration = make_psa(cast.account_a, "connectwise", cw)
    client = browser(cast.superuser_a)
    assert b"Remove" in client.get(f"/settings/integrations/{integration.pk}/remove/").content
    assert Integration.objects.exists()
    assert client.post(f"/settings/integrations/{integration.pk}/remove/").status_code == 302
    assert not Integration.objects.exists()


def test_r1_3_only_a_superuser_of_the_account_reaches_integrations_and_deliveries(cast, cw):
    integration = make_psa(cast.account_a, "connectwise", cw)
    for path in ("/settings/integrations/", "/settings/deliveries/", f"/settings/integrations/{integration.pk}/edit/"):
        assert browser(cast.admin_a).get(path).status_code == 403
    assert browser(cast.superuser_b).get(f"/settings/integrations/{integration.pk}/edit/").status_code == 404
    assert browser(cast.superuser_b).post(f"/settings/integrations/{integration.pk}/remove/").status_code == 404
    assert Integration.objects.exists()


def test_r13_5_deliveries_show_state_attempts_and_errors_and_a_failed_one_is_retried(cast):
    make_appliance(cast.account_a, cast.org_a1, "silent", last_contact_at=NOW - timedelta(hours=1))
    evaluate(cast.account_a, NOW)
    delivery = Delivery.objects.get()
    Delivery.objects.filter(pk=delivery.pk).update(state="failed", attempts=8, last_error="mail server: 451 busy")
    client = browser(cast.superuser_a)
    page = client.get("/settings/deliveries/?state=failed").content.decode()
    assert "451 busy" in page and "failed" in page and "Retry" in page
    assert browser(cast.superuser_b).get("/settings/deliveries/").content.decode().count("delivery-") == 0

    client.post(f"/settings/deliveries/{delivery.pk}/retry/")
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("pending", 0)
    assert delivery.next_attempt_at <= timezone.now()


def test_r13_4_the_vsa_email_actions_editor_shows_only_ones_own(cast):
    client = browser(cast.admin_a)
    response = client.post("/settings/vsa-email-actions/", {"area": "backups", "recipients": "a@x.example b@x.example"})
    assert response.status_code == 302
    action = VsaEmailAction.objects.get()
    assert action.owner == cast.admin_a and action.recipients == ["a@x.example", "b@x.example"]
    assert "a@x.example, b@x.example" in client.get("/settings/vsa-email-actions/").content.decode()

    other = browser(cast.superuser_a)
    assert "a@x.example" not in other.get("/settings/vsa-email-actions/").content.decode()
    assert other.get(f"/settings/vsa-email-actions/{action.pk}/").status_code == 404
    assert other.post(f"/settings/vsa-email-actions/{action.pk}/remove/").status_code == 404

    bad = client.post(f"/settings/vsa-email-actions/{action.pk}/", {"area": "backups", "recipients": "nope"})
    assert bad.status_code == 200 and b"Not an email address: nope" in bad.content
    client.post(f"/settings/vsa-email-actions/{action.pk}/", {"area": "replication_offsite", "recipients": "c@x.example"})
    action.refresh_from_db()
    assert (action.area, action.recipients) == ("replication_offsite", ["c@x.example"])
    client.post(f"/settings/vsa-email-actions/{action.pk}/remove/")
    assert not VsaEmailAction.objects.exists()
    assert browser(cast.monitor_a).get("/settings/vsa-email-actions/").status_code == 403


def test_r13_3_organizations_are_mapped_to_psa_companies_in_the_dashboard(cast, connectwise_fake):
    """R13.3 with R19.2: the company is picked from the PSA's (tests/test_psa_companies.py has the picking)."""
    client = browser(cast.superuser_a)
    page = client.get("/settings/psa-companies/").content.decode()
    assert "Acme" in page and "Birch" in page and "no PSA integration yet" in page
    refused = client.post("/settings/psa-companies/", {f"company_{cast.org_a1.pk}": "4242"})
    assert "Set up a PSA integration first." in refused.content.decode() and not PsaCompanyMapping.objects.exists()
    connectwise_fake.companies[4242] = "Acme Holdings"
    make_psa(cast.account_a, "connectwise", connectwise_fake)
    page = client.get("/settings/psa-companies/").content.decode()
    assert f"company_{cast.org_a1.pk}" in page and f"company_{cast.org_b1.pk}" not in page
    client.post("/settings/psa-companies/", {f"company_{cast.org_a1.pk}": "4242", f"company_{cast.org_a2.pk}": ""})
    assert dict(PsaCompanyMapping.objects.values_list("organization__name", "company_name")) == {"Acme": "Acme Holdings"}
    client.post("/settings/psa-companies/", {f"company_{cast.org_a1.pk}": ""})
    assert not PsaCompanyMapping.objects.exists()
    assert browser(cast.admin_a).get("/settings/psa-companies/").status_code == 403
