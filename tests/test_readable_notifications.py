"""What a person reads of an alert outside the portal — the PSA ticket and the email — is
written for a person (R7.1, R13.3): the checklist one check a line, labels in words,
moments as dates, why it resolved in words; never a raw key, a dict or an ISO stamp."""

import re
from datetime import timedelta

import pytest

from alerts.evaluation import evaluate
from alerts.models import AlertEvent
from alerts.reconciler import resolve
from integrations.models import Integration
from notifications.channels.base import alert_url
from notifications.channels.email_body import bodies
from notifications.channels.psa import ticket_for
from tests.conftest import NOW
from tests.test_backup_alarm import DUE, make_backup, open_alarms, server, set_global

pytestmark = pytest.mark.django_db

ISO_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
RAW = ("{'", "[{", "asset:", "'key'", "root_cause:", "failing_check", "due_start", "threshold_source")


def alarm(cast):
    set_global(cast.account_a)
    make_backup(server(cast), DUE - timedelta(minutes=1))
    evaluate(cast.account_a, NOW)
    [alert] = open_alarms(cast.account_a)
    return alert


def assert_for_a_person(text):
    assert not ISO_STAMP.search(text), text
    for raw in RAW:
        assert raw not in text, (raw, text)


def test_r7_1_r13_3_a_ticket_lists_the_checklist_in_words(cast):
    integration = Integration(account=cast.account_a, kind="connectwise", options={"default_company": "7"})
    ticket = ticket_for(integration, alarm(cast))
    assert_for_a_person(ticket.description)
    assert "✗ Last good backup:" in ticket.description or "✗ Backup schedule" in ticket.description
    assert "Root cause: " in ticket.description
    assert f"Due start: {DUE:%Y-%m-%d %H:%M} UTC" in ticket.description


@pytest.mark.parametrize("part", [0, 1], ids=["text", "html"])
def test_r7_1_an_email_says_the_alarm_and_why_it_resolved_in_words(cast, part):
    alert = alarm(cast)
    raised = alert.events.get(type=AlertEvent.Type.RAISED)
    body = bodies(alert, raised, alert_url(alert))[part]
    assert_for_a_person(body)
    assert "Root cause" in body and "Threshold" in body

    [alert] = resolve([alert], NOW, "cleared")
    cleared = alert.events.get(type=AlertEvent.Type.RESOLVED)
    body = bodies(alert, cleared, alert_url(alert))[part]
    assert "(the condition cleared)" in body
    assert "(cleared)" not in body
