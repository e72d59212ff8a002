"""R15.5: replay is read-only — an evaluation at another `now` answers what it would do and writes nothing."""

from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts.evaluation import evaluate
from alerts.models import Alert, AlertEvent, Evaluation
from inventory.models import Appliance
from notifications.models import Delivery
from tests.conftest import NOW, api_client, make_appliance

WRITES = ("INSERT", "UPDATE", "DELETE")


def _timeline(cast):
    """At NOW - 1 h `dpu` is offline (its alert is open); by NOW + 1 h it is back and `ueb` went silent."""
    make_appliance(cast.account_a, cast.org_a1, "ueb", last_contact_at=NOW)
    dpu = make_appliance(cast.account_a, cast.org_a2, "dpu", last_contact_at=NOW - timedelta(hours=3))
    make_appliance(cast.account_b, cast.org_b1, "theirs", last_contact_at=NOW - timedelta(hours=3))
    evaluate(cast.account_a, NOW - timedelta(hours=1))
    Appliance.objects.filter(pk=dpu.pk).update(last_contact_at=NOW + timedelta(minutes=50))
    return NOW + timedelta(hours=1)


def _state():
    return (
        sorted(Alert.objects.values_list("subject", "state", "organization_id")),
        AlertEvent.objects.count(), Delivery.objects.count(), Evaluation.objects.count(),
    )


def test_r15_5_a_replay_in_the_api_answers_what_it_would_raise_and_resolve_and_writes_nothing(cast):
    later = _timeline(cast)
    before = _state()
    assert [a[1] for a in before[0]] == ["open"] and before[2] > 0  # the open alert fanned out
    with CaptureQueriesContext(connection) as queries:
        response = api_client(cast.superuser_a).post("/api/v1/evaluations/", {"now": later.isoformat()}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["preview"] is True and (body["raised"], body["resolved"]) == (1, 1)
    [raise_] = body["would_raise"]
    assert raise_["kind"] == "appliance_offline" and raise_["organization_name"] == "Acme"
    assert "ueb" in raise_["title"] and raise_["kind_label"] == "Appliance offline"
    [resolve] = body["would_resolve"]
    assert resolve["organization_name"] == "Birch" and "dpu" in resolve["title"] and resolve["reason"] == "cleared"
    assert "theirs" not in response.content.decode()  # another account's appliance is not in the answer
    assert _state() == before
    alert_writes = [q["sql"] for q in queries.captured_queries
                    if q["sql"].split()[0] in WRITES and "alerts_" in q["sql"]]
    assert alert_writes == []  # a dry-run diff, not a write rolled back


def test_r15_5_a_replay_of_the_past_does_not_resolve_live_alerts(cast):
    make_appliance(cast.account_a, cast.org_a1, "ueb", last_contact_at=NOW)
    evaluate(cast.account_a, NOW + timedelta(hours=1))  # offline: open
    last_month = NOW - timedelta(days=30)  # it was in contact then: a replay would clear it
    response = api_client(cast.superuser_a).post("/api/v1/evaluations/", {"now": last_month.isoformat()}, format="json")
    assert response.json()["resolved"] == 1
    assert Alert.objects.get().state == "open" and AlertEvent.objects.count() == 1


def test_r15_5_the_evaluate_command_previews_another_time_and_writes_only_with_commit(cast):
    later = _timeline(cast)
    before = _state()
    out = StringIO()
    call_command("evaluate", account=cast.account_a.pk, now=later.isoformat(), stdout=out)
    text = out.getvalue()
    assert "nothing written" in text and "would raise 1" in text and "resolve 1" in text
    assert "would raise: Appliance offline — Acme — Appliance ueb" in text
    assert "would resolve: Appliance offline — Birch — Appliance dpu" in text
    assert _state() == before
    out = StringIO()
    call_command("evaluate", account=cast.account_a.pk, now=later.isoformat(), commit=True, stdout=out)
    assert "raised 1, resolved 1" in out.getvalue()
    assert sorted(Alert.objects.values_list("title", "state")) == [
        ("Appliance dpu has not been in contact for 30 minutes", "resolved"),
        ("Appliance ueb has not been in contact for 30 minutes", "open"),
    ]


def test_r15_5_an_evaluation_at_the_present_writes(cast):
    make_appliance(cast.account_a, cast.org_a1, "ueb", last_contact_at=timezone.now() - timedelta(hours=2))
    response = api_client(cast.superuser_a).post(
        "/api/v1/evaluations/?wait=1", {"now": timezone.now().isoformat()}, format="json"
    )
    assert response.status_code == 201 and "preview" not in response.json()
    assert response.json()["raised"] == 1
    assert Alert.objects.filter(state="open").count() == 1
