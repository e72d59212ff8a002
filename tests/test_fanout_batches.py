"""Batched fan-out (issue 17): deliveries claimed in batches under one lease, sent on a few
threads, their tries written in bulk — and still at least once, never twice."""

from datetime import timedelta
from unittest.mock import patch

import pytest
from django.core.mail import get_connection
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts.evaluation import evaluate
from alerts.models import Alert, AlertSettings
from fakes.psa import ConnectWiseFake, make_psa
from integrations.psa import client as psa_client
from inventory.models import Appliance
from notifications import outbox, tasks
from notifications.models import Delivery, DeliveryAttempt
from tests.conftest import NOW, build_cast, make_appliance
from tests.test_fanout_faults import (
    assert_one_ticket_per_alert,
    nudge_until_sent,
    quiet_cast,
    tickets,
)
from tests.workers import Worker, wait_for


def silent_appliances(cast, count):
    for n in range(count):
        make_appliance(cast.account_a, cast.org_a1, f"silent-{n}", last_contact_at=NOW - timedelta(hours=1))
    evaluate(cast.account_a, NOW)
    return list(Delivery.objects.order_by("pk").values_list("pk", flat=True))


def test_r13_5_a_batch_is_claimed_under_one_lease_and_never_claimed_twice(cast):
    ids = silent_appliances(cast, 5)
    first = outbox.claim_batch(ids, limit=3)
    assert [d.pk for d in first] == ids[:3]
    assert len({d.claimed_until for d in first}) == 1  # one lease for the whole batch
    assert {d.attempts for d in first} == {1}
    second = outbox.claim_batch(ids)  # a second worker handed the same ids gets the rest only
    assert [d.pk for d in second] == ids[3:]
    assert outbox.claim_batch(ids) == []
    assert outbox.due() == []


@pytest.mark.django_db(transaction=True)
def test_the_claim_skips_rows_another_worker_has_locked_instead_of_waiting():
    cast = build_cast()
    AlertSettings.objects.filter(account=cast.account_a).update(emails=["noc@msp-a.example"])
    ids = silent_appliances(cast, 3)
    other = connections.create_connection("default")  # a second worker, mid-claim
    try:
        other.set_autocommit(False)
        with other.cursor() as cursor:
            cursor.execute(f"SELECT 1 FROM {Delivery._meta.db_table} WHERE id = %s FOR UPDATE", [ids[0]])
            claimed = outbox.claim_batch(ids)
    finally:
        other.rollback()
        other.close()
    assert [d.pk for d in claimed] == ids[1:]
    assert Delivery.objects.get(pk=ids[0]).attempts == 0


@pytest.mark.django_db(transaction=True)
def test_r13_5_a_batch_with_one_failing_delivery_retries_only_that_one(smtp):
    cast = build_cast()
    ids = silent_appliances(cast, 6)
    smtp.server_error(times=1)

    states = outbox.deliver_batch(ids)  # on DELIVERY_THREADS threads, one SMTP connection
    assert sorted(states.values()) == ["pending"] + ["sent"] * 5
    [failed] = [pk for pk, state in states.items() if state == "pending"]
    retried = Delivery.objects.get(pk=failed)
    assert "451" in retried.last_error and retried.next_attempt_at > timezone.now()
    assert retried.claimed_until is None
    assert len(smtp.messages) == 5
    assert DeliveryAttempt.objects.count() == 6
    assert sorted(DeliveryAttempt.objects.values_list("ok", flat=True)) == [False] + [True] * 5

    assert outbox.deliver_batch(ids) == {}  # nothing is due: nothing is sent again
    Delivery.objects.filter(pk=failed).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert outbox.due() == [failed]
    assert outbox.deliver_batch(ids) == {failed: "sent"}  # only the failed one is tried again
    assert len(smtp.messages) == 6
    assert sorted(Delivery.objects.values_list("attempts", flat=True)) == [1] * 5 + [2]
    subjects = sorted(m["Subject"] for m in smtp.messages)
    assert subjects == sorted({*subjects})  # each alert emailed once
    assert len(subjects) == Alert.objects.count() == 6


@pytest.mark.django_db(transaction=True)
def test_a_batch_of_email_reads_what_its_messages_say_with_the_claim(smtp, settings):
    """R13.2: each message names the alert's appliance; the batch reads it with the claim, so
    its queries do not grow with the deliveries it holds."""
    settings.DELIVERY_THREADS = 1  # the sends run on this thread's connection, where the queries are seen
    cast = build_cast()
    ids = silent_appliances(cast, 6)
    with CaptureQueriesContext(connections["default"]) as seen:
        assert set(outbox.deliver_batch(ids).values()) == {"sent"}
    statements = [q["sql"] for q in seen.captured_queries if q["sql"].split()[0] in ("SELECT", "INSERT", "UPDATE")]
    assert len(statements) == 7  # the claim (3), its accounts, the account's list, the attempts, the outcomes
    appliances = f'FROM "{Appliance._meta.db_table}"'
    assert not any(appliances in sql for sql in statements)  # joined in the claim, not read apart
    bodies = sorted(m.get_body(("plain",)).get_content() for m in smtp.messages)
    assert [b.count("Appliance:     silent-") for b in bodies] == [1] * 6


@pytest.mark.django_db(transaction=True)
def test_a_batch_of_email_opens_one_smtp_connection(smtp):
    cast = build_cast()
    ids = silent_appliances(cast, 5)
    with patch("notifications.channels.email.get_connection", wraps=get_connection) as opened:
        states = outbox.deliver_batch(ids)
    assert set(states.values()) == {"sent"} and len(states) == 5
    assert opened.call_count == 1
    assert len(smtp.messages) == 5


def test_r13_5_a_batch_out_of_time_hands_back_what_it_did_not_try(cast, mailoutbox):
    ids = silent_appliances(cast, 3)
    assert outbox.deliver_batch(ids, deadline=0) == dict.fromkeys(ids, "pending")
    assert mailoutbox == []
    assert not DeliveryAttempt.objects.exists()
    for delivery in Delivery.objects.all():
        assert (delivery.attempts, delivery.claimed_until) == (0, None)
    assert outbox.due() == ids  # due at once: the sweeper sends them


def test_queue_sends_one_task_per_batch(settings):
    settings.DELIVERY_BATCH_SIZE = 2
    with patch.object(tasks.deliver_batch, "delay") as delay:
        tasks.queue([1, 2, 3, 4, 5])
    assert [call.args[0] for call in delay.call_args_list] == [[1, 2], [3, 4], [5]]


def test_r13_5_a_message_of_the_single_delivery_task_queued_before_batching_is_still_served(cast, mailoutbox):
    [delivery_id] = silent_appliances(cast, 1)
    assert tasks.deliver.name == "notifications.tasks.deliver"
    assert tasks.deliver_batch.name == "notifications.tasks.deliver_batch"
    assert tasks.deliver.apply(args=[delivery_id]).get() == "sent"
    assert len(mailoutbox) == 1
    assert tasks.deliver.apply(args=[delivery_id]).get() is None  # sent: never twice


def test_the_batch_task_ends_before_its_lease():
    assert tasks.deliver_batch.time_limit < tasks.DELIVERY_TASK["time_limit"] + 1
    assert tasks.deliver_batch.soft_time_limit < tasks.deliver_batch.time_limit
    from django.conf import settings

    assert tasks.deliver_batch.time_limit < settings.DELIVERY_LEASE_SECONDS
    assert tasks.START_SENDS_WITHIN < tasks.deliver_batch.soft_time_limit


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_r13_5_a_worker_killed_mid_batch_leaves_every_delivery_of_the_batch_sent_exactly_once(tmp_path):
    fake = ConnectWiseFake().start()
    fake.hold_after_acting.clear()  # every ticket is made, then its answer waits: the batch is mid-call
    lease = 3
    first = Worker(tmp_path / "first.log", DELIVERY_LEASE_SECONDS=lease, DELIVERY_THREADS=4).start()
    second = None
    try:
        cast = quiet_cast()
        make_psa(cast.account_a, "connectwise", fake)
        for n in range(3):
            make_appliance(cast.account_a, cast.org_a1, f"silent-{n}", last_contact_at=NOW - timedelta(hours=1))
        evaluate(cast.account_a, NOW)  # one batch of three ticket deliveries
        alerts = list(Alert.objects.filter(account=cast.account_a))
        assert len(alerts) == 3
        assert wait_for(lambda: len(fake.tickets) == 3, timeout=30), (tmp_path / "first.log").read_text()
        assert len({d.claimed_until for d in tickets()}) == 1  # claimed together, under one lease
        first.kill()
        fake.hold_after_acting.set()
        assert set(tickets().values_list("state", "attempts")) == {("pending", 1)}
        assert outbox.due() == []  # the dead worker's lease holds

        second = Worker(tmp_path / "second.log", DELIVERY_LEASE_SECONDS=lease, DELIVERY_THREADS=4).start()
        assert wait_for(lambda: len(outbox.due()) == 3, timeout=lease + 2)  # the lease expired for all
        assert nudge_until_sent(), (tmp_path / "second.log").read_text()
        assert_one_ticket_per_alert(fake, alerts)
        assert set(tickets().values_list("attempts", flat=True)) == {2}
        assert len(fake.calls("POST")) == 3  # the retries looked their tickets up instead of creating
        for delivery in tickets():
            assert delivery.attempt_log.count() == 1  # re-sent exactly once after the kill
    finally:
        for worker in (first, second):
            if worker:
                worker.stop()
        fake.stop()


@pytest.mark.django_db(transaction=True)
def test_psa_sends_keep_a_session_per_thread_and_integration_across_batches(settings):
    settings.DELIVERY_BATCH_SIZE = 8
    fake = ConnectWiseFake().start()
    try:
        cast = quiet_cast()
        AlertSettings.objects.filter(account=cast.account_a).update(storm_threshold=0)  # 16 tickets, not a storm
        make_psa(cast.account_a, "connectwise", fake)
        for n in range(16):
            make_appliance(cast.account_a, cast.org_a1, f"silent-{n}", last_contact_at=NOW - timedelta(hours=1))
        evaluate(cast.account_a, NOW)
        ids = list(tickets().order_by("pk").values_list("pk", flat=True))
        with patch("integrations.psa.client.shared_session", wraps=psa_client.shared_session) as made:
            assert set(outbox.deliver_batch(ids[:8]).values()) == {"sent"}
            assert made.call_count <= settings.DELIVERY_THREADS  # one per sending thread, not per ticket
            first = made.call_count
            assert set(outbox.deliver_batch(ids[8:]).values()) == {"sent"}
            assert made.call_count == first  # the next batch reuses the threads' sessions
        assert len(fake.tickets) == 16
    finally:
        fake.stop()


@pytest.mark.django_db(transaction=True)
def test_a_batch_of_tickets_reads_its_psa_integration_and_each_company_once(settings):
    settings.DELIVERY_THREADS = 1  # the sends run on this thread's connection, where the queries are seen
    fake = ConnectWiseFake().start()
    try:
        cast = quiet_cast()
        make_psa(cast.account_a, "connectwise", fake)
        for n in range(6):
            make_appliance(cast.account_a, cast.org_a1, f"silent-{n}", last_contact_at=NOW - timedelta(hours=1))
        evaluate(cast.account_a, NOW)
        ids = list(tickets().values_list("pk", flat=True))
        assert len(ids) >= 6
        with CaptureQueriesContext(connections["default"]) as seen:
            assert set(outbox.deliver_batch(ids).values()) == {"sent"}
        sql = [q["sql"] for q in seen.captured_queries]
        assert sum('FROM "integrations_integration"' in q for q in sql) == 1
        assert sum('FROM "notifications_psacompanymapping"' in q for q in sql) == 1  # one organization
        # Whether each delivery was tried before (invariant 4) is read with the claim, not per delivery.
        assert sum('FROM "notifications_deliveryattempt"' in q for q in sql) == 1
        assert len(fake.tickets) == len(ids)  # every ticket made, each once
    finally:
        fake.stop()
