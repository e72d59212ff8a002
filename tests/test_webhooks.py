"""Signed outbound webhooks (issue 18): a channel on the outbox like every other (R13.5),
over a real HTTP receiver on loopback and real Celery workers."""

import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from alerts.evaluation import evaluate
from alerts.models import Alert, AlertSettings
from fakes.webhook import WebhookReceiver
from inventory.models import ApplianceAlert
from notifications import outbox
from notifications.models import Delivery, WebhookEndpoint
from notifications.tasks import sweep
from tests.conftest import NOW, api_client, build_cast, make_appliance
from tests.workers import Worker, wait_for


@pytest.fixture
def receiver(webhook_receiver):
    server = webhook_receiver
    yield server


def quiet(cast):
    """No email: the outbox holds only webhook deliveries."""
    AlertSettings.objects.filter(account=cast.account_a).update(emails=[])
    return cast


def add_webhook(cast, receiver, **fields):
    body = {"name": "NOC", "url": receiver.url + "/hook", **fields}
    response = api_client(cast.superuser_a).post("/api/v1/webhooks/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def raise_offline(cast, organization=None, name="silent"):
    make_appliance(cast.account_a, organization or cast.org_a1, name, last_contact_at=NOW - timedelta(hours=1))
    evaluate(cast.account_a, NOW)


def hooks():
    return Delivery.objects.filter(channel="webhook")


def deliver_all():
    return [outbox.deliver(pk) for pk in hooks().filter(state="pending").values_list("pk", flat=True)]


def verify(secret: str, header: str, body: bytes, tolerance=300) -> bool:
    """What docs/webhooks.md tells a receiver to do, written here independently of the sender."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    fresh = abs(time.time() - int(parts["t"])) <= tolerance
    return fresh and hmac.compare_digest(expected, parts["v1"])


# --- The call: shape, signature, idempotency key ---------------------------------------------------
def test_a_raised_alert_reaches_the_webhook_signed_with_its_secret(cast, receiver):
    quiet(cast)
    hook = add_webhook(cast, receiver, secret="s3cret-of-the-receiver-1234")
    raise_offline(cast)
    assert deliver_all() == ["sent"]

    [(headers, raw)] = receiver.received
    assert verify("s3cret-of-the-receiver-1234", headers["uniview-signature"], raw)
    assert not verify("another-secret-altogether-000", headers["uniview-signature"], raw)
    assert not verify("s3cret-of-the-receiver-1234", headers["uniview-signature"], raw.replace(b"Acme", b"Acmf"))

    alert = Alert.objects.get()
    event = alert.events.get()
    body = json.loads(raw)
    assert headers["idempotency-key"] == f"{event.uuid}:{hook['id']}"
    assert body["id"] == str(event.uuid) and body["type"] == "alert.raised"
    assert body["alert"]["id"] == alert.pk and body["alert"]["ref"] == alert.ref
    assert body["alert"]["organization"] == {"id": cast.org_a1.pk, "name": "Acme"}
    assert (body["alert"]["kind"], body["alert"]["state"], body["alert"]["severity"]) == (
        "appliance_offline", "open", "critical")  # R20.1: an appliance offline is critical
    assert body["alert"]["resolved_at"] is None and body["alert"]["raised_at"]
    assert body["links"]["alert"].endswith(f"/alerts/{alert.pk}/")


def test_the_secret_is_generated_shown_once_and_masked_after(cast, receiver):
    hook = add_webhook(cast, receiver)
    secret = hook["secret_once"]
    assert len(secret) >= 32 and "secret" not in hook
    read = api_client(cast.superuser_a).get(f"/api/v1/webhooks/{hook['id']}/").json()
    assert "secret_once" not in read and "secret" not in read
    assert read["secret_masked"] == "••••" + secret[-4:]
    assert WebhookEndpoint.objects.get().secret == secret
    with connection.cursor() as cursor:  # the database holds a Fernet token, never the secret
        cursor.execute("SELECT secret_store FROM notifications_webhookendpoint")
        assert secret not in cursor.fetchone()[0]


def test_the_test_button_of_the_api_sends_a_signed_test_event(cast, receiver):
    hook = add_webhook(cast, receiver)
    answer = api_client(cast.superuser_a).post(f"/api/v1/webhooks/{hook['id']}/test/").json()
    assert answer["ok"] is True and answer["status"] == 200
    [(headers, raw)] = receiver.received
    assert json.loads(raw)["type"] == "test"
    assert verify(hook["secret_once"], headers["uniview-signature"], raw)

    receiver.server_error(status=500)
    answer = api_client(cast.superuser_a).post(f"/api/v1/webhooks/{hook['id']}/test/").json()
    assert answer["ok"] is False and "500" in answer["detail"]


def test_a_url_the_outbound_guard_refuses_is_a_400_naming_the_field(cast, settings):
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    response = api_client(cast.superuser_a).post(
        "/api/v1/webhooks/", {"name": "x", "url": "http://127.0.0.1:9/in"}, format="json")
    assert response.status_code == 400 and "url" in response.json()["errors"]
    response = api_client(cast.superuser_a).post(
        "/api/v1/webhooks/", {"name": "x", "url": "http://169.254.169.254/latest"}, format="json")
    assert response.status_code == 400 and "url" in response.json()["errors"]
    assert not WebhookEndpoint.objects.exists()


# --- Answers: 5xx retried, 4xx permanent, 410 disables --------------------------------------------
def test_a_5xx_is_retried_with_back_off_and_the_retry_carries_the_same_idempotency_key(cast, receiver):
    quiet(cast)
    add_webhook(cast, receiver)
    raise_offline(cast)
    receiver.server_error()
    assert deliver_all() == ["pending"]
    delivery = hooks().get()
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=10)
    receiver.server_error(0)
    hooks().update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert deliver_all() == ["sent"]
    keys = [headers["idempotency-key"] for headers, _ in receiver.received]
    assert len(keys) == 2 and keys[0] == keys[1]


def test_a_4xx_fails_the_delivery_for_good(cast, receiver):
    quiet(cast)
    add_webhook(cast, receiver)
    raise_offline(cast)
    receiver.server_error(status=400)
    assert deliver_all() == ["failed"]
    assert "400" in hooks().get().last_error
    assert WebhookEndpoint.objects.get().enabled


def test_a_410_disables_the_endpoint_and_says_so_in_the_api_and_the_dashboard(cast, receiver, client):
    quiet(cast)
    hook = add_webhook(cast, receiver, name="Gone receiver")
    raise_offline(cast)
    receiver.server_error(status=410)
    assert deliver_all() == ["failed"]
    assert "410" in hooks().get().last_error

    read = api_client(cast.superuser_a).get(f"/api/v1/webhooks/{hook['id']}/").json()
    assert read["enabled"] is False and "410 Gone" in read["disabled_reason"]
    client.force_login(cast.superuser_a)
    page = client.get("/settings/webhooks/").content.decode()
    assert "Disabled: The receiver answered 410 Gone" in page

    raise_offline(cast, cast.org_a2, "another")  # no more deliveries for a disabled endpoint
    assert hooks().count() == 1

    enabled = api_client(cast.superuser_a).patch(f"/api/v1/webhooks/{hook['id']}/", {"enabled": True},
                                                 format="json").json()
    assert enabled["enabled"] is True and enabled["disabled_reason"] == ""


# --- Filters --------------------------------------------------------------------------------------
def test_filters_by_event_kind_severity_and_organization(cast, receiver):
    quiet(cast)
    every = add_webhook(cast, receiver, name="every")
    resolved_only = add_webhook(cast, receiver, name="resolved", events=["resolved"])
    birch_only = add_webhook(cast, receiver, name="birch", organizations=[cast.org_a2.pk])
    critical_only = add_webhook(cast, receiver, name="critical", severities=["critical"])
    appliance_alerts = add_webhook(cast, receiver, name="kind", kinds=["appliance_alert"])

    silent = make_appliance(cast.account_a, cast.org_a1, "silent", last_contact_at=NOW - timedelta(hours=1))
    ApplianceAlert.objects.create(account=cast.account_a, appliance=make_appliance(cast.account_a, cast.org_a1, "ok",
                                  last_contact_at=NOW), external_id=1, category="storage", severity="warning",
                                  message="Storage nearly full", reported_at=NOW, active=True)
    evaluate(cast.account_a, NOW)  # raised: offline (critical, Acme), storage (warning, Acme)
    silent.last_contact_at = NOW
    silent.save()
    evaluate(cast.account_a, NOW + timedelta(minutes=5))  # resolved: offline

    def sent_to(hook):
        return sorted((d.event.type, d.event.alert.kind) for d in hooks().filter(target=str(hook["id"])))

    assert sent_to(every) == [("raised", "appliance_alert"), ("raised", "appliance_offline"),
                              ("resolved", "appliance_offline")]
    assert sent_to(resolved_only) == [("resolved", "appliance_offline")]
    assert sent_to(birch_only) == []
    assert sent_to(critical_only) == [("raised", "appliance_offline"), ("resolved", "appliance_offline")]
    assert sent_to(appliance_alerts) == [("raised", "appliance_alert")]

    raise_offline(cast, cast.org_a2, "birch-silent")
    assert sent_to(birch_only) == [("raised", "appliance_offline")]


def test_bad_filters_are_a_400_naming_the_field_and_change_nothing(cast, receiver):
    api = api_client(cast.superuser_a)
    for field, value in (("events", ["exploded"]), ("kinds", ["nope"]), ("severities", ["loud"]),
                         ("organizations", [cast.org_b1.pk]), ("secret", "short")):
        response = api.post("/api/v1/webhooks/", {"name": "x", "url": receiver.url, field: value}, format="json")
        assert response.status_code == 400 and field in response.json()["errors"], (field, response.json())
    assert not WebhookEndpoint.objects.exists()


# --- Tenancy --------------------------------------------------------------------------------------
def test_r1_another_accounts_webhook_is_404_and_only_superusers_manage_them(cast, receiver):
    hook = add_webhook(cast, receiver)
    other = api_client(cast.superuser_b)
    assert other.get(f"/api/v1/webhooks/{hook['id']}/").status_code == 404
    assert other.post(f"/api/v1/webhooks/{hook['id']}/test/").status_code == 404
    assert other.delete(f"/api/v1/webhooks/{hook['id']}/").status_code == 404
    assert other.get("/api/v1/webhooks/").json()["results"] == []
    assert api_client(cast.admin_a).get("/api/v1/webhooks/").status_code == 403
    assert receiver.received == []


def test_r1_a_webhook_never_receives_another_accounts_alerts(cast, receiver):
    quiet(cast)
    AlertSettings.objects.filter(account=cast.account_b).update(emails=[])
    add_webhook(cast, receiver)
    make_appliance(cast.account_b, cast.org_b1, "b-silent", last_contact_at=NOW - timedelta(hours=1))
    evaluate(cast.account_b, NOW)
    assert Alert.objects.filter(account=cast.account_b).exists()
    assert not hooks().exists()
    raise_offline(cast)
    assert deliver_all() == ["sent"]
    [(_, raw)] = receiver.received
    assert json.loads(raw)["alert"]["organization"]["id"] == cast.org_a1.pk


# --- At least once, exactly one accepted ----------------------------------------------------------
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_r13_5_a_worker_killed_mid_call_leads_to_exactly_one_accepted_event(tmp_path):
    receiver = WebhookReceiver().start()
    receiver.hold_after_acting.clear()  # the receiver accepts the event, then its answer waits
    lease = 3
    first = Worker(tmp_path / "first.log", DELIVERY_LEASE_SECONDS=lease).start()
    second = None
    try:
        cast = quiet(build_cast())
        add_webhook(cast, receiver)
        raise_offline(cast)  # commits: the delivery is queued to the worker
        assert wait_for(lambda: len(receiver.accepted) == 1, timeout=30), (tmp_path / "first.log").read_text()
        first.kill()
        receiver.hold_after_acting.set()
        delivery = hooks().get()
        assert (delivery.state, delivery.attempts) == ("pending", 1)

        second = Worker(tmp_path / "second.log", DELIVERY_LEASE_SECONDS=lease).start()
        assert wait_for(lambda: delivery.pk in outbox.due(), timeout=lease + 2)  # the dead worker's lease ran out
        sweep()
        assert wait_for(lambda: hooks().get().state == "sent", timeout=30), (tmp_path / "second.log").read_text()

        keys = [headers["idempotency-key"] for headers, _ in receiver.received]
        assert len(keys) == 2 and keys[0] == keys[1]  # the retry could be dropped by the receiver…
        assert len(receiver.accepted) == 1  # …and was: one event accepted
        assert hooks().get().attempts == 2
    finally:
        for worker in (first, second):
            if worker:
                worker.stop()
        receiver.stop()


# --- Settings > Webhooks --------------------------------------------------------------------------
def test_a_superuser_adds_edits_tests_and_removes_a_webhook_in_the_dashboard(cast, receiver, client):
    client.force_login(cast.superuser_a)
    added = client.post("/settings/webhooks/", {"name": "Ops", "url": receiver.url + "/in", "events": ["raised"],
                                                "severities": ["critical"], "organizations": [cast.org_a2.pk],
                                                "enabled": "on"})
    assert added.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    page = added.content.decode()
    assert endpoint.secret in page and "not shown again" in page  # shown once…
    listed = client.get("/settings/webhooks/").content.decode()
    assert endpoint.secret not in listed and "••••" + endpoint.secret[-4:] in listed  # …then masked
    assert (endpoint.events, endpoint.severities, list(endpoint.organizations.all())) == (
        ["raised"], ["critical"], [cast.org_a2])

    kept = endpoint.secret
    client.post(f"/settings/webhooks/{endpoint.pk}/", {"name": "Ops desk", "url": receiver.url + "/in",
                                                       "secret": "", "enabled": "on"})
    endpoint.refresh_from_db()
    assert endpoint.name == "Ops desk" and endpoint.secret == kept and endpoint.events == []

    tested = client.post(f"/settings/webhooks/{endpoint.pk}/test/", follow=True).content.decode()
    assert "Test event to Ops desk: The receiver accepted the test event (HTTP 200)." in tested
    receiver.server_error(status=404)
    tested = client.post(f"/settings/webhooks/{endpoint.pk}/test/", follow=True).content.decode()
    assert "refused with HTTP 404" in tested

    assert client.post(f"/settings/webhooks/{endpoint.pk}/remove/").status_code == 302
    assert not WebhookEndpoint.objects.exists()

    from audit.models import AuditEntry
    entries = AuditEntry.objects.filter(account=cast.account_a, action__startswith="webhook.")
    assert [e.action for e in entries.order_by("id")] == ["webhook.create", "webhook.update", "webhook.delete"]
    assert kept not in str(list(entries.values()))  # the secret is never in the audit log


def test_the_dashboard_form_refuses_a_bad_url_with_a_form_error(cast, client, settings):
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    client.force_login(cast.superuser_a)
    page = client.post("/settings/webhooks/", {"name": "x", "url": "http://127.0.0.1:9/in"}).content.decode()
    assert 'class="error"' in page and not WebhookEndpoint.objects.exists()


def test_r1_webhook_pages_are_for_superusers_and_another_accounts_is_404(cast, receiver, client):
    hook = add_webhook(cast, receiver)
    client.force_login(cast.admin_a)
    assert client.get("/settings/webhooks/").status_code == 403
    client.force_login(cast.superuser_b)
    assert client.get(f"/settings/webhooks/{hook['id']}/").status_code == 404
    assert client.post(f"/settings/webhooks/{hook['id']}/test/").status_code == 404
    assert client.post(f"/settings/webhooks/{hook['id']}/remove/").status_code == 404
    assert WebhookEndpoint.objects.filter(pk=hook["id"]).exists() and receiver.received == []


def test_a_key_rotation_keeps_webhook_secrets_readable(cast, settings):
    from io import StringIO

    from cryptography.fernet import Fernet
    from django.core.management import call_command

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = old
    endpoint = WebhookEndpoint(account=cast.account_a, name="Ops", url="https://hooks.example/in")
    endpoint.secret = "the-secret-before-rotation"
    endpoint.save()
    settings.FIELD_ENCRYPTION_KEY = f"{new},{old}"
    out = StringIO()
    call_command("rotate_credentials_key", stdout=out)
    assert "1 webhook endpoints" in out.getvalue()
    settings.FIELD_ENCRYPTION_KEY = new
    assert WebhookEndpoint.objects.get().secret == "the-secret-before-rotation"


def test_a_dismissal_is_sent_as_alert_dismissed_and_a_429_waits_for_its_retry_after(cast, receiver):
    quiet(cast)
    add_webhook(cast, receiver, events=["dismissed"])
    raise_offline(cast)
    assert not hooks().exists()  # raised is not asked for
    alert = Alert.objects.get()
    assert api_client(cast.admin_a).post(f"/api/v1/alerts/{alert.pk}/dismiss/", {"reason": "known"},
                                         format="json").status_code == 200
    receiver.quota(1200)
    assert deliver_all() == ["pending"]
    assert hooks().get().next_attempt_at > timezone.now() + timedelta(seconds=1100)  # the receiver's wish
    hooks().update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert deliver_all() == ["sent"]
    body = json.loads(receiver.received[-1][1])
    assert (body["type"], body["alert"]["state"]) == ("alert.dismissed", "dismissed")
