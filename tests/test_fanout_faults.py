"""R13.5 with real processes: a PSA that goes away, a worker killed mid-ticket, a 429 —
every delivery arrives, and no alert ever gets a second ticket (invariant 4)."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.evaluation import evaluate
from alerts.models import Alert, AlertSettings
from fakes.psa import ConnectWiseFake, make_psa
from notifications import outbox
from notifications.models import Delivery
from notifications.tasks import sweep
from tests.conftest import NOW, build_cast, make_appliance
from tests.workers import Worker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def quiet_cast():
    """The cast without email, so the outbox holds only ticket deliveries."""
    cast = build_cast()
    AlertSettings.objects.filter(account=cast.account_a).update(emails=[])
    return cast


def raise_alerts(cast, count):
    for n in range(count):
        make_appliance(cast.account_a, cast.org_a1, f"silent-{n}", last_contact_at=NOW - timedelta(hours=1))
    evaluate(cast.account_a, NOW)  # commits: the deliveries are queued to the worker
    return list(Alert.objects.filter(account=cast.account_a))


def tickets():
    return Delivery.objects.filter(channel="connectwise")


def nudge_until_sent(timeout=40):
    """What beat does every minute, with the back-off skipped so the test does not wait for it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not tickets().exclude(state="sent").exists():
            return True
        tickets().filter(state="pending", claimed_until__isnull=True).update(
            next_attempt_at=timezone.now() - timedelta(seconds=1)
        )
        sweep()
        time.sleep(0.5)
    return False


def assert_one_ticket_per_alert(fake, alerts):
    titles = fake.titles()
    assert len(titles) == len(alerts), titles
    for alert in alerts:
        [ticket] = fake.matching(f"[{alert.ref}]")
        delivery = tickets().get(event__alert=alert, event__type="raised")
        assert delivery.external_ref == str(ticket["id"])


@pytest.mark.slow
def test_r13_5_the_psa_down_for_a_while_then_back_every_ticket_arrives_once(tmp_path):
    fake = ConnectWiseFake().start()
    fake.server_error()
    worker = Worker(tmp_path / "worker.log").start()
    try:
        cast = quiet_cast()
        make_psa(cast.account_a, "connectwise", fake)
        alerts = raise_alerts(cast, 4)
        log = lambda: (tmp_path / "worker.log").read_text()  # noqa: E731
        assert wait_for(lambda: tickets().filter(attempts__gte=1, claimed_until__isnull=True).count() == 4,
                        timeout=30), log()
        assert set(tickets().values_list("state", flat=True)) == {"pending"}
        assert all("503" in d.last_error for d in tickets())
        assert fake.tickets == {}

        fake.server_error(0)
        fake.drop_after_acting(2)  # two answers lost after the ticket was made
        assert nudge_until_sent(), log()
        assert_one_ticket_per_alert(fake, alerts)
        assert len([c for c in fake.requests if c.dropped]) == 2
    finally:
        worker.stop()
        fake.stop()


@pytest.mark.slow
def test_r13_5_a_worker_killed_mid_ticket_leaves_exactly_one_ticket_after_restart(tmp_path):
    fake = ConnectWiseFake().start()
    fake.hold_after_acting.clear()  # the ticket is made, then the answer waits: the worker is mid-call
    lease = 3
    first = Worker(tmp_path / "first.log", DELIVERY_LEASE_SECONDS=lease).start()
    second = None
    try:
        cast = quiet_cast()
        make_psa(cast.account_a, "connectwise", fake)
        alerts = raise_alerts(cast, 1)
        assert wait_for(lambda: len(fake.tickets) == 1, timeout=30), (tmp_path / "first.log").read_text()
        first.kill()
        fake.hold_after_acting.set()
        delivery = tickets().get()
        assert (delivery.state, delivery.attempts) == ("pending", 1)

        assert delivery.pk not in outbox.due()  # the dead worker's lease holds: nobody may try it yet

        second = Worker(tmp_path / "second.log", DELIVERY_LEASE_SECONDS=lease).start()
        assert wait_for(lambda: delivery.pk in outbox.due(), timeout=lease + 2)  # lease expired
        assert nudge_until_sent(), (tmp_path / "second.log").read_text()
        assert_one_ticket_per_alert(fake, alerts)
        assert tickets().get().attempts == 2
        assert len(fake.calls("POST")) == 1  # the retry looked the ticket up instead of creating it
    finally:
        for worker in (first, second):
            if worker:
                worker.stop()
        fake.stop()


@pytest.mark.slow
def test_r13_5_a_429_retry_after_is_honoured(tmp_path):
    fake = ConnectWiseFake().start()
    fake.quota(300)
    worker = Worker(tmp_path / "worker.log").start()
    try:
        cast = quiet_cast()
        make_psa(cast.account_a, "connectwise", fake)
        alerts = raise_alerts(cast, 1)
        assert wait_for(lambda: tickets().filter(attempts=1, claimed_until__isnull=True).exists(), timeout=30)
        delivery = tickets().get()
        tried_at = delivery.attempt_log.get().started_at
        assert delivery.state == "pending" and "429" in delivery.last_error
        assert delivery.next_attempt_at >= tried_at + timedelta(seconds=300)
        assert sweep() == 0  # not due: the sweeper leaves it alone until Retry-After has passed
        time.sleep(1)
        assert fake.tickets == {} and len(fake.calls(status=429)) == 1

        assert nudge_until_sent(), (tmp_path / "worker.log").read_text()  # after the wait: delivered
        assert_one_ticket_per_alert(fake, alerts)
    finally:
        worker.stop()
        fake.stop()
