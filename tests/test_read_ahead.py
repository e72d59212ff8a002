"""Issue 17: a large evaluation computes the conditional alarms on a thread of its own while it
writes (alerts/read_ahead.py). The alarms are the same, an error is not lost, a thread never
outlives its evaluation."""

import threading
from datetime import timedelta

import pytest
from django.db import connection

from alerts.evaluation import evaluate
from alerts.models import Alert, AlertEvent
from alerts.read_ahead import read_ahead
from inventory.models import NextCheck
from notifications.models import Delivery
from tests.conftest import NOW, build_cast, make_appliance, make_asset
from tests.test_backup_alarm import make_backup, set_global


def _threads():
    return {t for t in threading.enumerate() if t.name == "uniview-read-ahead"}


def test_the_items_come_in_order_and_the_thread_ends_with_them():
    assert list(read_ahead(iter(range(2345)), batch_size=100, depth=2)) == list(range(2345))
    assert not _threads()


def test_an_error_in_the_rule_is_raised_to_the_caller_after_what_came_before_it():
    def rule():
        yield from range(10)
        raise ValueError("unreadable row")

    seen = []
    with pytest.raises(ValueError, match="unreadable row"):
        for item in read_ahead(rule(), batch_size=3):
            seen.append(item)
    assert seen == [0, 1, 2, 3, 4, 5, 6, 7, 8]  # whole batches only: the last one held the error
    assert not _threads()


def test_a_caller_that_stops_early_stops_the_thread_too():
    produced = []

    def endless():
        n = 0
        while True:
            produced.append(n)
            yield n
            n += 1

    items = read_ahead(endless(), batch_size=10, depth=2)
    assert [next(items) for _ in range(5)] == [0, 1, 2, 3, 4]
    items.close()
    assert not _threads()
    assert len(produced) < 100  # it was held a few batches ahead, not left running


def _alarms(account):
    return sorted(
        Alert.objects.filter(account=account, state="open").values_list("fingerprint", "title", "details", "links")
    )


@pytest.mark.django_db(transaction=True)
def test_r14_1_r5_1_a_large_evaluation_raises_the_same_alarms_with_or_without_reading_ahead(settings, monkeypatch):
    """The thread's connection sees what is committed: the assets, schedules and backups the
    rule reads. Run once each way over the same data, the alarms are the same, to the byte."""
    cast = build_cast()
    set_global(cast.account_a)
    appliance = make_appliance(cast.account_a, cast.org_a1, last_contact_at=NOW - timedelta(minutes=5))
    silent = make_appliance(cast.account_a, cast.org_a2, "appliance-2", last_contact_at=NOW - timedelta(hours=3))
    for n in range(40):
        asset = make_asset(appliance if n % 4 else silent, f"vm-{n:02d}",
                           rrule="FREQ=DAILY;BYHOUR=22;BYMINUTE=0" if n % 3 else "FREQ=HOURLY;INTERVAL=6")
        if n % 5 == 0:
            make_backup(asset, NOW - timedelta(hours=30), status="failed", error="disk full")
        elif n % 7 == 0:
            make_backup(asset, NOW - timedelta(hours=2))
    import alerts.due

    used = []
    monkeypatch.setattr(alerts.due, "read_ahead", lambda items: used.append(1) or read_ahead(items))
    runs = {}
    for threshold in (10**9, 1):  # never, then always
        settings.EVALUATION_READ_AHEAD_FROM = threshold
        before = connection.cursor().connection.info.backend_pid
        evaluate(cast.account_a, NOW)
        runs[threshold] = _alarms(cast.account_a)
        assert connection.cursor().connection.info.backend_pid == before
        Delivery.objects.all().delete()
        AlertEvent.objects.all().delete()
        Alert.objects.all().delete()
        NextCheck.objects.update(next_check_at=NOW - timedelta(days=1))
    assert len(used) == 2  # the backup and the hot copy rules, on the second run only
    assert len(runs[1]) > 20
    assert runs[1] == runs[10**9]
    assert not _threads()


@pytest.mark.django_db
def test_an_evaluation_pauses_the_cycle_collector_and_leaves_it_as_it_found_it(monkeypatch):
    """A bad day's full collections walked every live alarm again and again (half the raise's
    CPU at 100,000): the collector is off during a run, and on again after it, unless it was off."""
    import gc

    import alerts.evaluation

    cast = build_cast()
    seen = []
    rules = [(kinds, rule) for kinds, rule in alerts.evaluation.RULES]
    kinds, first = rules[0]
    rules[0] = (kinds, lambda *args, **kwargs: seen.append(gc.isenabled()) or first(*args, **kwargs))
    monkeypatch.setattr(alerts.evaluation, "RULES", rules)
    assert gc.isenabled()
    evaluate(cast.account_a, NOW)
    assert seen == [False]
    assert gc.isenabled()
    gc.disable()
    try:
        evaluate(cast.account_a, NOW + timedelta(minutes=1))
        assert not gc.isenabled()
    finally:
        gc.enable()
