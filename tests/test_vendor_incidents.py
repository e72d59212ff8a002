"""R17.2 vendor incidents with real workers, the Spanning fakes (one tenant each), the ConnectWise
fake and the SMTP fake: the same vendor-side failure in at least M organizations is one
account-level alert; what it explains fans out nothing until it ends, then what still holds does."""

from datetime import UTC, date, datetime, timedelta

import pytest

from alerts.evaluation import evaluate
from alerts.models import Alert, AlertSettings
from fakes.psa import ConnectWiseFake, make_psa
from fakes.smtp import SmtpFake
from fakes.spanning import M365Fake
from integrations.models import Integration
from integrations.pollers import poll
from inventory.models import SaasSource
from notifications.models import Delivery
from tenancy.models import Organization
from tests.conftest import NOW, build_cast, make_appliance
from tests.workers import Worker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

DAY3 = date(2026, 10, 22)
NOON = datetime(2026, 10, 22, 12, tzinfo=UTC)


def settled():
    return Delivery.objects.exists() and not Delivery.objects.exclude(state="sent").exists()


def tenant(account, n):
    """A Spanning M365 tenant on its own fake, whose backups failed for the last three days."""
    fake = M365Fake(username=f"admin@tenant{n}.example", secret=f"token-{n}").start()
    for back in range(3):
        fake.set_day(DAY3 - timedelta(days=back), "Failed")
    integration = Integration.objects.create(
        account=account, kind="spanning_m365", name=f"Tenant {n}", base_url=fake.url + fake.prefix,
        credentials={"admin_email": fake.username, "api_token": fake.secret},
    )
    return fake, integration


@pytest.mark.slow
def test_r17_2_a_spanning_outage_over_six_tenants_raises_one_vendor_incident_and_no_per_tenant_ticket(tmp_path):
    psa, smtp = ConnectWiseFake().start(), SmtpFake().start()
    mail = {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": smtp.port,
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend"}
    worker = Worker(tmp_path / "worker.log", **mail).start()
    log = lambda: (tmp_path / "worker.log").read_text()[-3000:]  # noqa: E731
    tenants = []
    try:
        cast = build_cast()
        account = cast.account_a
        make_psa(account, "connectwise", psa, close_on_resolve=True)
        orgs = [cast.org_a1, cast.org_a2] + [Organization.objects.create(account=account, name=f"Customer {n}")
                                             for n in range(3, 7)]
        tenants = [tenant(account, n) for n in range(6)]
        for _, integration in tenants:  # the first polls store each tenant (not mapped yet: no alert)
            assert "failed" not in poll(integration, NOON)

        # Spanning fails for everyone (server errors on one tenant, refused tokens would be another failure).
        for fake, integration in tenants:
            fake.server_error()
            assert "failed" in poll(integration, NOON + timedelta(minutes=5))
        for (_, integration), org in zip(tenants, orgs, strict=True):
            SaasSource.objects.filter(integration_id=integration.pk).update(organization=org)
        evaluate(account, NOON + timedelta(minutes=10))

        [incident] = Alert.objects.filter(kind="vendor_incident", state="open")
        assert incident.organization_id is None  # the account's, not one organization's
        assert "Spanning" in incident.title and "6 organizations" in incident.title
        held = Alert.objects.filter(kind="spanning_m365", state="open")
        assert held.count() == 6 and set(held.values_list("held_by", flat=True)) == {incident.pk}
        assert wait_for(settled, timeout=40), log()
        [ticket] = psa.tickets.values()  # the incident's, and no per-tenant ticket
        assert ticket["title"].endswith(f"[{incident.ref}]")
        assert all(org.name in ticket["description"] for org in orgs)  # the organizations, in words
        assert "organization_ids" not in ticket["description"].lower() and "[" not in ticket["description"]
        assert not Delivery.objects.filter(event__alert__in=held).exists()  # nothing at all per tenant
        assert wait_for(lambda: len(smtp.messages) == 1, timeout=15), log()

        # Two tenants come back: four organizations fail, fewer than five: the incident ends, its
        # ticket closes, and the six tenants' failed backups, which still hold, fan out now.
        for fake, integration in tenants[:2]:
            fake.server_error(0)
            assert "failed" not in poll(integration, NOON + timedelta(minutes=20))
        incident.refresh_from_db()
        assert incident.state == "resolved"
        assert wait_for(lambda: settled() and len(psa.tickets) == 7, timeout=40), log()
        assert str(psa.matching(f"[{incident.ref}]")[0]["status"]) == "9"
        for alert in held:
            assert len(psa.matching(f"[{alert.ref}]")) == 1
        assert Alert.objects.filter(kind="spanning_m365", held_by__isnull=False).count() == 0
    finally:
        worker.stop()
        for fake, _ in tenants:
            fake.stop()
        psa.stop()
        smtp.stop()


def test_r17_2_appliances_out_of_contact_in_fewer_organizations_than_the_limit_are_no_incident():
    cast = build_cast()
    account = cast.account_a
    AlertSettings.objects.filter(account=account).update(incident_organizations=3)
    third = Organization.objects.create(account=account, name="Cedar")
    for org in (cast.org_a1, cast.org_a2):
        make_appliance(account, org, f"box-{org.pk}", last_contact_at=NOW - timedelta(hours=1))
    evaluate(account, NOW)
    assert not Alert.objects.filter(kind="vendor_incident").exists()
    assert Alert.objects.filter(kind="appliance_offline", held_by__isnull=True).count() == 2

    make_appliance(account, third, "box-cedar", last_contact_at=NOW - timedelta(hours=1))
    evaluate(account, NOW + timedelta(minutes=5))
    [incident] = Alert.objects.filter(kind="vendor_incident", state="open")
    assert "Unitrends appliances" in incident.title and incident.details["organizations"] == ["Acme", "Birch", "Cedar"]
    # Raised while the incident is open: held. Raised before it: already sent, left as they were.
    [cedar] = Alert.objects.filter(kind="appliance_offline", organization=third)
    assert cedar.held_by_id == incident.pk
    assert not Delivery.objects.filter(event__alert=cedar).exists()
