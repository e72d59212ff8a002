"""The outbox (R13.5): deliveries written with their event, claimed once, retried with
back-off, never lost — over a real SMTP server and real Celery workers."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from alerts.evaluation import evaluate
from alerts.models import Alert, AlertEvent
from fakes.smtp import SmtpFake
from notifications import outbox
from notifications.models import Delivery
from notifications.tasks import sweep
from tests.conftest import NOW, api_client, build_cast, make_appliance
from tests.workers import Worker, flush_broker, wait_for


def silent_appliance(cast):
    return make_appliance(cast.account_a, cast.org_a1, "silent", last_contact_at=NOW - timedelta(hours=1))


def only_delivery():
    return Delivery.objects.select_related("event").get()


def make_due(delivery):
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_r13_5_a_delivery_is_written_with_its_event(cast):
    silent_appliance(cast)
    evaluate(cast.account_a, NOW)
    delivery = only_delivery()
    assert delivery.event.type == "raised"
    assert (delivery.channel, delivery.state, delivery.attempts) == ("email", "pending", 0)


def test_r13_5_an_event_rolled_back_leaves_no_delivery(cast):
    silent_appliance(cast)
    with pytest.raises(RuntimeError), transaction.atomic():
        evaluate(cast.account_a, NOW)
        raise RuntimeError("crash after the event was written")
    assert not AlertEvent.objects.exists()
    assert not Delivery.objects.exists()


def test_r13_2_an_account_without_addresses_gets_no_email_delivery(cast):
    cast.account_a.alert_settings.emails = []
    cast.account_a.alert_settings.save()
    silent_appliance(cast)
    evaluate(cast.account_a, NOW)
    assert AlertEvent.objects.count() == 1
    assert not Delivery.objects.exists()


def test_r13_2_raised_and_resolved_are_emailed_with_a_link_to_the_alert(cast, smtp):
    appliance = silent_appliance(cast)
    evaluate(cast.account_a, NOW)
    appliance.last_contact_at = NOW
    appliance.save()
    evaluate(cast.account_a, NOW + timedelta(minutes=5))
    for delivery in Delivery.objects.all():
        assert outbox.deliver(delivery.pk) == "sent"
    alert = Alert.objects.get()
    subjects = sorted(m["Subject"] for m in smtp.messages)
    assert subjects == [f"[{alert.ref}] Alert: {alert.title}", f"[{alert.ref}] Resolved: {alert.title}"]
    message = smtp.messages[0]
    assert message["To"] == "noc@msp-a.example"
    bodies = [part.get_content() for part in message.walk() if not part.is_multipart()]
    assert any(f"/alerts/{alert.pk}/" in body for body in bodies)
    assert {part.get_content_type() for part in message.walk()} >= {"text/plain", "text/html"}


def test_r13_5_a_transient_failure_backs_off_and_a_later_try_delivers(cast, smtp):
    silent_appliance(cast)
    evaluate(cast.account_a, NOW)
    delivery = only_delivery()
    smtp.server_error(times=1)

    assert outbox.deliver(delivery.pk) == "pending"
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and "451" in delivery.last_error
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=10)
    assert outbox.deliver(delivery.pk) is None  # not due yet: nobody may try it
    assert delivery.pk not in outbox.due()

    make_due(delivery)
    assert outbox.deliver(delivery.pk) == "sent"
    assert len(smtp.messages) == 1
    assert [a.ok for a in delivery.attempt_log.all()] == [False, True]


def test_r13_5_after_the_last_try_it_is_failed_visible_and_can_be_retried_by_hand(cast, smtp):
    silent_appliance(cast)
    evaluate(cast.account_a, NOW)
    delivery = only_delivery()
    smtp.server_error(times=3)
    with override_settings(DELIVERY_MAX_ATTEMPTS=3):
        for _ in range(3):
            make_due(delivery)
            outbox.deliver(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.state == "failed" and delivery.attempts == 3

    listed = api_client(cast.superuser_a).get("/api/v1/deliveries/?state=failed").json()["results"]
    assert [d["id"] for d in listed] == [delivery.pk]
    assert api_client(cast.admin_a).get("/api/v1/deliveries/").status_code == 403

    response = api_client(cast.superuser_a).post(f"/api/v1/deliveries/{delivery.pk}/retry/")
    assert response.status_code == 200 and response.json()["state"] == "pending"
    assert outbox.deliver(delivery.pk) == "sent"
    assert len(smtp.messages) == 1
    assert api_client(cast.superuser_a).post(f"/api/v1/deliveries/{delivery.pk}/retry/").status_code == 409


def test_r13_5_a_claimed_delivery_is_not_claimed_again_until_its_lease_expires(cast):
    silent_appliance(cast)
    evaluate(cast.account_a, NOW)
    delivery = only_delivery()
    assert outbox.claim(delivery.pk) is not None
    assert outbox.claim(delivery.pk) is None
    assert delivery.pk not in outbox.due()
    later = timezone.now() + timedelta(hours=1)
    assert delivery.pk in outbox.due(now=later)  # the worker died: the sweeper takes it again
    assert outbox.claim(delivery.pk, now=later).attempts == 2


def test_the_backoff_grows_and_is_capped():
    assert 15 <= outbox.backoff(1) <= 30
    assert 60 <= outbox.backoff(3) <= 120
    assert 1800 <= outbox.backoff(30) <= 3600


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_r13_5_a_lost_task_is_delivered_by_the_sweeper(tmp_path):
    server = SmtpFake().start()
    worker = None
    try:
        cast = build_cast()
        silent_appliance(cast)
        evaluate(cast.account_a, NOW)  # commits: the delivery task is queued in Redis…
        delivery = only_delivery()
        flush_broker()  # …and lost.

        worker = Worker(tmp_path / "worker.log", EMAIL_HOST="127.0.0.1", EMAIL_PORT=server.port).start()
        assert not wait_for(lambda: server.messages, timeout=3)
        assert Delivery.objects.get(pk=delivery.pk).state == "pending"

        assert sweep() == 1  # what beat runs every minute
        assert wait_for(lambda: Delivery.objects.get(pk=delivery.pk).state == "sent", timeout=30), (
            (tmp_path / "worker.log").read_text()
        )
        assert len(server.messages) == 1
        assert sweep() == 0  # nothing left to nudge; nothing is sent twice
    finally:
        if worker:
            worker.stop()
        server.stop()
