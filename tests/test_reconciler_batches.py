"""The reconciler batch by batch (issue 17): the same answer whatever the batch size, with
conditions read once from a stream, and one alert, event and delivery per condition."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts import reconciler
from alerts.conditions import Condition
from alerts.models import Alert, AlertEvent
from alerts.reconciler import raise_alerts, reconcile
from notifications.models import Delivery
from tests.conftest import NOW, build_cast
from tests.test_concurrency import run_in_threads

KINDS = ("appliance_offline",)
WRITES = ("INSERT", "UPDATE", "DELETE")


def condition(org, n, **details):
    return Condition(
        kind="appliance_offline", subject=f"appliance:{n}", title=f"Appliance {n} offline", organization_id=org.pk,
        category="appliance", details=details, links={"appliance": f"https://portal.example/appliances/{n}"},
    )


def stream(org, count, **details):
    """A generator, as a rule yields: the reconciler may read it only once."""
    return (condition(org, n, **details) for n in range(count))


def test_raising_over_several_batches_writes_one_alert_event_and_delivery_per_condition(cast):
    outcome = reconcile(cast.account_a, KINDS, stream(cast.org_a1, 10), NOW, batch_size=3)
    assert (outcome.raised, outcome.kept, outcome.resolved) == (10, 0, 0)
    alerts = Alert.objects.filter(account=cast.account_a, state="open")
    assert sorted(alerts.values_list("subject", flat=True)) == sorted(f"appliance:{n}" for n in range(10))
    assert AlertEvent.objects.filter(type="raised").count() == 10
    assert Delivery.objects.filter(channel="email").count() == 10
    assert set(Delivery.objects.values_list("event__alert_id", flat=True)) == set(alerts.values_list("pk", flat=True))
    first = alerts.get(subject="appliance:0")
    assert first.organization_name == cast.org_a1.name and first.links == {"appliance": "https://portal.example/appliances/0"}


def test_r14_2_a_second_cycle_over_several_batches_keeps_everything_and_writes_nothing(cast):
    reconcile(cast.account_a, KINDS, stream(cast.org_a1, 10, missed=1), NOW, batch_size=3)
    with CaptureQueriesContext(connection) as ctx:
        outcome = reconcile(cast.account_a, KINDS, stream(cast.org_a1, 10, missed=1), NOW + timedelta(minutes=5),
                            batch_size=3)
    assert (outcome.raised, outcome.kept, outcome.resolved) == (0, 10, 0)
    assert [q["sql"] for q in ctx.captured_queries if q["sql"].split()[0] in WRITES] == []
    assert not any('"details"' in q["sql"] and "SELECT" in q["sql"] for q in ctx.captured_queries)


def test_resolving_more_than_a_batch_resolves_each_alert_once_and_fans_each_out(cast):
    reconcile(cast.account_a, KINDS, stream(cast.org_a1, 10), NOW, batch_size=3)
    outcome = reconcile(cast.account_a, KINDS, stream(cast.org_a1, 3), NOW + timedelta(minutes=5), batch_size=3)
    assert (outcome.raised, outcome.kept, outcome.resolved) == (0, 3, 7)
    resolved = Alert.objects.filter(state="resolved")
    assert resolved.count() == 7 and set(resolved.values_list("resolved_reason", flat=True)) == {"cleared"}
    assert AlertEvent.objects.filter(type="resolved").count() == 7
    assert Delivery.objects.filter(event__type="resolved").count() == 7
    assert Alert.objects.filter(state="open").count() == 3


def test_a_details_change_in_a_later_batch_is_applied_and_only_there(cast):
    reconcile(cast.account_a, KINDS, stream(cast.org_a1, 10, missed=1), NOW, batch_size=3)
    untouched = dict(Alert.objects.values_list("subject", "details_hash"))
    later = [condition(cast.org_a1, n, missed=2 if n >= 7 else 1) for n in range(10)]
    with CaptureQueriesContext(connection) as ctx:
        outcome = reconcile(cast.account_a, KINDS, iter(later), NOW + timedelta(days=1), batch_size=3)
    assert (outcome.raised, outcome.kept, outcome.resolved) == (0, 10, 0)
    details = dict(Alert.objects.values_list("subject", "details"))
    assert all(details[f"appliance:{n}"] == {"missed": 2 if n >= 7 else 1} for n in range(10))
    hashes = dict(Alert.objects.values_list("subject", "details_hash"))
    assert sorted(s for s in hashes if hashes[s] != untouched[s]) == [f"appliance:{n}" for n in (7, 8, 9)]
    updates = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 2  # the batches holding 7 and 8, 9 — one statement each
    assert AlertEvent.objects.count() == 10  # a details change is not an event (R5.3)


def test_a_title_or_links_change_is_applied_too(cast):
    reconcile(cast.account_a, KINDS, [condition(cast.org_a1, 1)], NOW)
    changed = Condition(kind="appliance_offline", subject="appliance:1", title="Renamed offline",
                        organization_id=cast.org_a1.pk, category="appliance", links={"appliance": "https://x.example/1"})
    reconcile(cast.account_a, KINDS, [changed], NOW + timedelta(minutes=5))
    alert = Alert.objects.get()
    assert (alert.title, alert.links, alert.details) == ("Renamed offline", {"appliance": "https://x.example/1"}, {})


def test_a_mix_of_new_kept_and_cleared_over_batches_adds_up(cast):
    reconcile(cast.account_a, KINDS, (condition(cast.org_a1, n) for n in range(0, 8)), NOW, batch_size=3)
    outcome = reconcile(cast.account_a, KINDS, (condition(cast.org_a1, n) for n in range(4, 12)),
                        NOW + timedelta(minutes=5), batch_size=3)
    assert (outcome.raised, outcome.kept, outcome.resolved) == (4, 4, 4)
    assert sorted(int(s.split(":")[1]) for s in Alert.objects.filter(state="open").values_list("subject", flat=True)) \
        == list(range(4, 12))
    assert Alert.objects.filter(state="resolved").count() == 4


def test_a_fingerprint_yielded_in_two_batches_is_one_alert(cast):
    twice = [condition(cast.org_a1, n) for n in (1, 2, 3, 1, 4)]
    outcome = reconcile(cast.account_a, KINDS, iter(twice), NOW, batch_size=2)
    assert outcome.raised == 4 and Alert.objects.count() == 4 and AlertEvent.objects.count() == 4


def test_r8_5_a_condition_in_a_later_batch_supersedes_an_alert_not_wanted_any_more(cast):
    reconcile(cast.account_a, KINDS, [condition(cast.org_a1, 1), condition(cast.org_a1, 2)], NOW)
    worse = Condition(kind="appliance_offline", subject="appliance:1:worse", title="worse", organization_id=cast.org_a1.pk,
                      supersedes=("appliance_offline:appliance:1",))
    outcome = reconcile(cast.account_a, KINDS, iter([condition(cast.org_a1, 2), worse]), NOW + timedelta(minutes=5),
                        batch_size=1)
    assert (outcome.raised, outcome.kept, outcome.resolved) == (1, 1, 1)
    assert Alert.objects.get(subject="appliance:1").resolved_reason == "superseded"


def test_an_alert_written_by_hand_is_kept_without_a_write(cast):
    wanted = condition(cast.org_a1, 1, missed=3)
    Alert.objects.create(
        account=cast.account_a, fingerprint=wanted.fingerprint, kind=wanted.kind, category=wanted.category,
        organization=cast.org_a1, subject=wanted.subject, title=wanted.title, group_key=f"{cast.org_a1.pk}:appliance_offline",
        group_label=wanted.title, raised_at=NOW, details={"missed": 3}, links=wanted.links,
    )
    with CaptureQueriesContext(connection) as ctx:
        outcome = reconcile(cast.account_a, KINDS, [wanted], NOW)
    assert outcome.kept == 1
    assert [q["sql"] for q in ctx.captured_queries if q["sql"].split()[0] in WRITES] == []


def test_raise_alerts_over_several_batches_answers_every_alert_with_its_fields(cast, monkeypatch):
    monkeypatch.setattr(reconciler, "BATCH", 4)
    raised = raise_alerts(cast.account_a, stream(cast.org_a1, 10, missed=1), NOW)
    assert len(raised) == 10 and len({a.pk for a in raised}) == 10
    stored = {a.pk: a for a in Alert.objects.all()}
    for alert in raised:
        twin = stored[alert.pk]
        assert (alert.subject, alert.title, alert.details, alert.state, alert.organization_name, alert.group_key) == (
            twin.subject, twin.title, twin.details, twin.state, twin.organization_name, twin.group_key)
    assert raise_alerts(cast.account_a, stream(cast.org_a1, 10, missed=1), NOW) == []
    assert AlertEvent.objects.count() == 10 and Delivery.objects.count() == 10


@pytest.mark.django_db(transaction=True)
def test_r14_2_a_second_writer_raising_the_same_batches_at_once_adds_nothing():
    cast = build_cast()

    def raise_all():
        return reconcile(cast.account_a, KINDS, stream(cast.org_a1, 10), NOW, batch_size=3).raised

    runs = run_in_threads(raise_all, count=3)
    assert sum(runs) == 10
    assert Alert.objects.filter(state="open").count() == 10
    assert AlertEvent.objects.count() == 10
    assert Delivery.objects.count() == 10


def test_each_raised_event_has_its_own_uuid_made_by_the_database_and_readable_on_the_event(cast):
    from alerts import events

    raised = raise_alerts(cast.account_a, [condition(cast.org_a1, n) for n in range(3)], NOW)
    written = events.record(raised, AlertEvent.Type.DISMISSED, NOW, fan_out=False)
    stored = dict(AlertEvent.objects.filter(pk__in=[e.pk for e in written]).values_list("pk", "uuid"))
    assert [e.uuid for e in written] == [stored[e.pk] for e in written]  # loaded on first read
    assert len(set(stored.values())) == 3
    assert [e.alert_id for e in written] == [a.pk for a in raised]


def test_the_upgrade_rehashes_open_alerts_so_that_the_next_cycle_rewrites_none(cast):
    """Details are serialized by orjson now: migration alerts/0008 gives every open alert the
    hash of the new serialization, so the first cycle after it finds nothing changed."""
    import hashlib
    import importlib
    import json

    from django.apps import apps

    reconcile(cast.account_a, KINDS, stream(cast.org_a1, 3, missed=1), NOW)
    for alert in Alert.objects.filter(account=cast.account_a):  # as the serialization before it hashed them
        old = f"{alert.title}\x00{json.dumps(alert.details, sort_keys=True)}\x00{json.dumps(alert.links, sort_keys=True)}"
        Alert.objects.filter(pk=alert.pk).update(details_hash=hashlib.sha1(old.encode()).hexdigest())
    importlib.import_module("alerts.migrations.0008_rehash_open_alerts").rehash_open_alerts(apps, None)
    with CaptureQueriesContext(connection) as ctx:
        outcome = reconcile(cast.account_a, KINDS, stream(cast.org_a1, 3, missed=1), NOW + timedelta(minutes=5))
    assert (outcome.raised, outcome.kept, outcome.resolved) == (0, 3, 0)
    assert [q["sql"] for q in ctx.captured_queries if q["sql"].split()[0] in WRITES] == []
