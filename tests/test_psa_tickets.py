"""PSA tickets (R13.3) against fake ConnectWise, Autotask, BMS and Vorex servers on loopback."""

from datetime import timedelta

from django.test import override_settings
from django.utils import timezone

from alerts.conditions import Condition
from alerts.dismiss import dismiss_alert
from alerts.evaluation import evaluate
from alerts.models import Alert
from alerts.reconciler import reconcile
from fakes.psa import make_psa
from fakes.smtp import SmtpFake
from integrations import connection as registry
from integrations.models import Integration
from inventory.models import Appliance
from notifications import outbox
from notifications.models import Delivery, PsaCompanyMapping
from tests.conftest import NOW, api_client, make_appliance
from tests.workers import wait_for


def deliver_all(channel):
    states = []
    for delivery in Delivery.objects.filter(channel=channel, state="pending").order_by("id"):
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        states.append(outbox.deliver(delivery.pk))
    return states


def raise_offline(cast, name="silent", org=None):
    make_appliance(cast.account_a, org or cast.org_a1, name, last_contact_at=NOW - timedelta(hours=1))
    evaluate(cast.account_a, NOW)
    return Alert.objects.filter(state="open").latest("id")


def bring_back_online(cast):
    Appliance.objects.filter(account=cast.account_a).update(last_contact_at=NOW + timedelta(minutes=5))
    evaluate(cast.account_a, NOW + timedelta(minutes=5))


def test_r13_3_a_raised_alert_opens_one_ticket_that_says_what_where_since_when_and_links_back(cast, psa):
    kind, fake = psa
    make_psa(cast.account_a, kind, fake)
    alert = raise_offline(cast)
    assert deliver_all(kind) == ["sent"]

    [ticket] = fake.tickets.values()
    assert ticket["title"].endswith(f"[{alert.ref}]")
    assert ticket["company"] == "77"  # no mapping: the default company
    assert "Acme" in ticket["description"] and "silent" in ticket["description"]
    assert "2026-11-02" in ticket["description"]  # since when
    assert f"/alerts/{alert.pk}/" in ticket["description"]
    delivery = Delivery.objects.get(channel=kind)
    assert delivery.external_ref == str(ticket["id"])


def test_r13_3_the_ticket_goes_to_the_company_mapped_to_the_organization(cast, psa):
    kind, fake = psa
    fake.companies[4242] = "Acme Holdings"  # R19.2: a company the PSA has
    make_psa(cast.account_a, kind, fake)
    response = api_client(cast.superuser_a).patch(
        f"/api/v1/organizations/{cast.org_a1.pk}/", {"psa_company": "4242"}, format="json"
    )
    assert response.status_code == 200 and response.json()["psa_company"] == "4242"
    raise_offline(cast)
    deliver_all(kind)
    assert [t["company"] for t in fake.tickets.values()] == ["4242"]


def test_r13_3_resolving_closes_the_ticket_only_when_the_option_is_on(cast, psa):
    kind, fake = psa
    integration = make_psa(cast.account_a, kind, fake, close_on_resolve=False)
    raise_offline(cast)
    deliver_all(kind)
    bring_back_online(cast)
    assert Alert.objects.get().state == "resolved"
    assert deliver_all(kind) == []  # option off: no close delivery at all
    [ticket] = fake.tickets.values()
    assert ticket["status"] != 9 and ticket["status"] != "9"

    integration.options["close_on_resolve"] = True
    integration.save()
    raise_offline(cast, "silent-2")
    deliver_all(kind)
    bring_back_online(cast)
    assert deliver_all(kind) == ["sent"]
    closed = fake.matching(f"[{Alert.objects.latest('id').ref}]")[0]
    assert int(closed["status"]) == 9
    assert int(ticket["status"]) != 9


def test_r9_2_an_integration_alert_opens_no_ticket_but_is_still_emailed(cast, psa):
    kind, fake = psa
    make_psa(cast.account_a, kind, fake)
    condition = Condition(kind="dbma_integration", subject="integration:1:quota", title="Datto Portal quota reached",
                          organization_id=None, category="integration")
    reconcile(cast.account_a, ["dbma_integration"], [condition], NOW)
    assert Alert.objects.get().kind == "dbma_integration"
    assert not Delivery.objects.filter(channel=kind).exists()
    assert Delivery.objects.filter(channel="email").count() == 1
    assert fake.tickets == {}


def test_r13_3_dismissal_leaves_the_ticket_alone(cast, psa):
    kind, fake = psa
    make_psa(cast.account_a, kind, fake, close_on_resolve=True)
    alert = raise_offline(cast)
    deliver_all(kind)
    calls_before = len(fake.requests)
    assert dismiss_alert(cast.superuser_a, alert.pk) == 1
    assert not Delivery.objects.filter(channel=kind, event__type="dismissed").exists()
    assert deliver_all(kind) == []
    assert len(fake.requests) == calls_before
    [ticket] = fake.tickets.values()
    assert int(ticket["status"]) == 1


def test_r13_3_an_account_without_a_psa_writes_no_ticket_delivery(cast):
    raise_offline(cast)
    assert set(Delivery.objects.values_list("channel", flat=True)) == {"email"}


def test_r13_3_connection_test_succeeds_and_names_bad_credentials(cast, psa):
    kind, fake = psa
    integration = make_psa(cast.account_a, kind, fake)
    ok, message = registry.test_connection(integration)
    assert ok, message
    secret = {"connectwise": "private_key", "autotask": "secret", "bms": "password", "vorex": "password"}[kind]
    integration.credentials = {**integration.credentials, secret: "wrong"}
    integration.save()
    ok, message = registry.test_connection(integration)
    assert not ok and "credentials refused (401)" in message


def test_r13_3_missing_credentials_are_refused_by_the_api(cast):
    response = api_client(cast.superuser_a).post(
        "/api/v1/integrations/", {"kind": "connectwise", "name": "cw", "credentials": {"company_id": "x"}},
        format="json",
    )
    assert response.status_code == 400 and "credentials" in response.json()["errors"]


def test_r13_3_mapping_is_removed_with_a_blank_company(cast):
    client = api_client(cast.superuser_a)
    client.patch(f"/api/v1/organizations/{cast.org_a1.pk}/", {"psa_company": "12"}, format="json")
    assert PsaCompanyMapping.objects.count() == 1
    client.patch(f"/api/v1/organizations/{cast.org_a1.pk}/", {"psa_company": ""}, format="json")
    assert PsaCompanyMapping.objects.count() == 0


def test_r13_5_an_answer_lost_after_the_ticket_was_made_does_not_make_a_second_one(cast, psa):
    kind, fake = psa
    make_psa(cast.account_a, kind, fake)
    alert = raise_offline(cast)
    fake.drop_after_acting(1)
    assert deliver_all(kind) == ["pending"]  # ambiguous: the PSA acted, we never heard
    assert len(fake.tickets) == 1
    assert deliver_all(kind) == ["sent"]  # the retry looks the ticket up by the alert's ref
    [ticket] = fake.tickets.values()
    assert ticket["title"].endswith(f"[{alert.ref}]")
    assert Delivery.objects.get(channel=kind).external_ref == str(ticket["id"])


def test_r13_5_a_psa_that_is_down_keeps_the_delivery_pending_with_the_error(cast, psa):
    kind, fake = psa
    make_psa(cast.account_a, kind, fake)
    raise_offline(cast)
    fake.server_error()
    assert deliver_all(kind) == ["pending"]
    delivery = Delivery.objects.get(channel=kind)
    assert "503" in delivery.last_error and delivery.next_attempt_at > timezone.now()
    fake.server_error(0)
    assert deliver_all(kind) == ["sent"] and len(fake.tickets) == 1


def test_r13_2_the_alert_email_says_where_and_links_back(cast):
    server = SmtpFake().start()
    try:
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1",
                               EMAIL_PORT=server.port, EMAIL_USE_TLS=False):
            alert = raise_offline(cast, "branch-office")
            assert deliver_all("email") == ["sent"]
        [message] = server.messages
        bodies = [part.get_content() for part in message.walk() if not part.is_multipart()]
        for body in bodies:
            assert "branch-office" in body and "Acme" in body and f"/alerts/{alert.pk}/" in body
    finally:
        server.stop()


def test_r13_3_one_psa_per_account_and_closing_needs_a_closed_status(cast):
    client = api_client(cast.superuser_a)
    body = {"kind": "autotask", "name": "AT", "credentials": {"username": "u", "secret": "s", "integration_code": "c"},
            "options": {"default_company": "1"}}
    assert client.post("/api/v1/integrations/", body, format="json").status_code == 201
    second = {**body, "kind": "bms", "name": "BMS", "credentials": {"username": "u", "password": "p", "tenant": "t"}}
    response = client.post("/api/v1/integrations/", second, format="json")
    assert response.status_code == 400 and "one PSA per account" in response.json()["errors"]["kind"][0]
    assert api_client(cast.superuser_b).post("/api/v1/integrations/", second, format="json").status_code == 201

    first = Integration.objects.get(kind="autotask")
    response = client.patch(f"/api/v1/integrations/{first.pk}/", {"options": {"close_on_resolve": True}}, format="json")
    assert response.status_code == 400 and "options" in response.json()["errors"]
    first.refresh_from_db()
    assert "close_on_resolve" not in first.options


def test_r13_5_a_retry_by_hand_after_a_lost_answer_still_finds_the_ticket(cast, psa, settings):
    kind, fake = psa
    make_psa(cast.account_a, kind, fake)
    raise_offline(cast)
    settings.DELIVERY_MAX_ATTEMPTS = 1
    fake.drop_after_acting(1)
    assert deliver_all(kind) == ["failed"]  # the last try: the ticket was made, the answer lost
    delivery = Delivery.objects.get(channel=kind)
    response = api_client(cast.superuser_a).post(f"/api/v1/deliveries/{delivery.pk}/retry/")
    assert response.status_code == 200 and response.json()["attempts"] == 0
    assert deliver_all(kind) == ["sent"]
    assert len(fake.tickets) == 1


def test_r13_5_a_psa_too_slow_to_answer_is_retried_without_a_second_ticket(cast, psa, settings):
    kind, fake = psa
    make_psa(cast.account_a, kind, fake)
    alert = raise_offline(cast)
    settings.PSA_TIMEOUT = (2, 0.3)
    fake.slow(0.6, after_acting=True)  # the PSA makes the ticket, then answers after our read timeout
    assert deliver_all(kind) == ["pending"]
    assert Delivery.objects.get(channel=kind).last_error
    assert wait_for(lambda: len(fake.tickets) == 1, timeout=5)
    fake.slow(0, after_acting=True)
    assert deliver_all(kind) == ["sent"]
    assert len(fake.tickets) == 1 and len(fake.matching(f"[{alert.ref}]")) == 1


def test_r13_5_slow_answers_within_the_timeout_are_just_slow(cast, psa):
    kind, fake = psa
    make_psa(cast.account_a, kind, fake)
    raise_offline(cast)
    fake.slow(0.2)
    assert deliver_all(kind) == ["sent"] and len(fake.tickets) == 1


def test_r17_1_a_storm_note_whose_answer_was_lost_is_not_added_twice(cast, psa):
    """Invariant 4 for notes: the PSA recorded the note, the answer never came; the retry finds the
    note by its reference among the ticket's notes and adds no second one."""
    from alerts.models import AlertEvent

    kind, fake = psa
    make_psa(cast.account_a, kind, fake)
    alert = raise_offline(cast)
    assert deliver_all(kind) == ["sent"]
    [ticket] = fake.tickets.values()
    event = AlertEvent.objects.create(account=cast.account_a, alert=alert, type="updated", at=NOW,
                                      reason="2 alert(s) joined the storm: silent-2, silent-3.")
    outbox.enqueue_for_events([event])
    fake.drop_after_acting(1)
    assert deliver_all(kind) == ["pending"]  # ambiguous: the PSA recorded the note, we never heard
    assert len(ticket["notes"]) == 1
    assert deliver_all(kind) == ["sent"]
    assert len(ticket["notes"]) == 1 and "2 alert(s) joined the storm" in ticket["notes"][0]

    second = AlertEvent.objects.create(account=cast.account_a, alert=alert, type="updated", at=NOW,
                                       reason="1 alert(s) resolved.")
    outbox.enqueue_for_events([second])
    assert deliver_all(kind) == ["sent"]  # another note is another note
    assert len(ticket["notes"]) == 2
