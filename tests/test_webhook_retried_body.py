"""A retried webhook call says what its event said (docs/webhooks.md, R13.5)."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.evaluation import evaluate
from inventory.models import Appliance
from tests.conftest import NOW
from tests.test_webhooks import add_webhook, deliver_all, hooks, quiet, raise_offline, receiver  # noqa: F401

pytestmark = pytest.mark.django_db


def test_r13_5_a_raised_call_retried_after_the_alert_resolved_still_says_open_and_unresolved(cast, receiver):  # noqa: F811
    quiet(cast)
    add_webhook(cast, receiver, events=["raised"])
    raise_offline(cast)
    receiver.server_error()
    assert deliver_all() == ["pending"]

    Appliance.objects.filter(name="silent").update(last_contact_at=NOW)
    evaluate(cast.account_a, NOW + timedelta(minutes=5))  # the alert resolves before the retry
    receiver.server_error(0)
    hooks().update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert deliver_all() == ["sent"]

    first, retry = (json.loads(raw)["alert"] for _, raw in receiver.received)
    assert (retry["state"], retry["resolved_at"]) == ("open", None)
    assert retry == first
