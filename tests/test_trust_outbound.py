"""Trust I: outbound calls reach only the addresses they may, and a vendor cannot park our work.

Only loopback servers are ever contacted; other addresses are only resolved, and the
DNS-rebinding case uses a resolver the test controls (socket.getaddrinfo, patched here only).
"""

from datetime import timedelta
from email.utils import format_datetime

import pytest
from django.utils import timezone

from alerts.evaluation import evaluate
from notifications import outbox, psa
from notifications.models import Delivery
from tests.conftest import NOW, make_appliance
from tests.fakes.psa import FAKES, make_psa


def deliver_all(channel):
    states = []
    for delivery in Delivery.objects.filter(channel=channel, state="pending").order_by("id"):
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        states.append(outbox.deliver(delivery.pk))
    return states


@pytest.mark.parametrize("retry_after", [
    "31536000",  # a year, in seconds
    format_datetime(timezone.now() + timedelta(days=365), usegmt=True),  # a year, as an HTTP date
    "1e400",  # infinity
])
def test_r13_5_a_psas_retry_after_cannot_park_a_delivery_longer_than_an_hour(cast, retry_after):
    fake = FAKES["connectwise"]().start()
    try:
        make_psa(cast.account_a, "connectwise", fake)
        make_appliance(cast.account_a, cast.org_a1, "silent", last_contact_at=NOW - timedelta(hours=1))
        evaluate(cast.account_a, NOW)
        fake.rate_limited, fake.retry_after = 1, retry_after
        before = timezone.now()
        assert deliver_all("connectwise") == ["pending"]
        delivery = Delivery.objects.get(channel="connectwise")
        assert "429" in delivery.last_error
        wait = delivery.next_attempt_at - before
        assert timedelta(minutes=30) < wait <= timedelta(hours=1, seconds=5)
    finally:
        fake.stop()


def test_r13_5_a_reasonable_retry_after_is_honoured_as_the_psa_asked():
    assert psa.retry_after_value("120") == 120.0
    assert psa.retry_after_value("-5") == 0.0
    assert psa.retry_after_value("soon") is None
    assert psa.retry_after_value("31536000") == psa.RETRY_AFTER_MAX == 3600
