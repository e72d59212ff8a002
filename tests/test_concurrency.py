"""Two workers evaluating one account at once leave one open alert (R14.2, invariants 1 and 6)."""

import threading
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection

from alerts.conditions import Condition
from alerts.evaluation import evaluate
from alerts.models import Alert, AlertEvent
from alerts.reconciler import raise_alerts
from tests.conftest import NOW, build_cast, make_appliance

pytestmark = pytest.mark.django_db(transaction=True)


def run_in_threads(target, count=2):
    barrier = threading.Barrier(count)
    results, errors = [], []

    def work():
        try:
            barrier.wait()
            results.append(target())
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    assert not errors, errors
    return results


def test_two_threads_evaluating_at_once_leave_one_open_alert():
    cast = build_cast()
    make_appliance(cast.account_a, cast.org_a1, "silent", last_contact_at=NOW - timedelta(hours=1))
    runs = run_in_threads(lambda: evaluate(cast.account_a, NOW), count=4)
    assert Alert.objects.filter(state="open").count() == 1
    assert AlertEvent.objects.filter(type="raised").count() == 1
    assert sum(r.raised for r in runs) == 1


def test_two_raises_of_one_fingerprint_bypassing_the_lock_still_leave_one_open_alert():
    cast = build_cast()
    wanted = Condition(kind="appliance_offline", subject="appliance:7", title="x", organization_id=cast.org_a1.pk)
    runs = run_in_threads(lambda: raise_alerts(cast.account_a, [wanted], NOW), count=4)
    assert Alert.objects.filter(state="open").count() == 1
    assert sum(len(r) for r in runs) == 1
    assert AlertEvent.objects.count() == 1
