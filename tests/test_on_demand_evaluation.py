"""R15.6: an evaluation asked for on demand is never silently skipped; it runs after the one holding the account."""

import time
from contextlib import contextmanager
from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from alerts.evaluation import evaluate, evaluate_on_demand
from alerts.models import Alert, Evaluation, EvaluationRequest
from tenancy.locks import APPLIANCE_SYNC, EVALUATION
from tests.conftest import NOW, api_client, build_cast, make_appliance
from tests.workers import Worker, flush_broker, wait_for


@contextmanager
def held(namespace, key):
    """Another session holds an advisory transaction lock, as a running evaluation does."""
    db = connection.settings_dict
    other = psycopg.connect(host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"],
                            password=db["PASSWORD"] or None, dbname=db["NAME"])
    try:
        other.execute("SELECT pg_advisory_xact_lock(%s, %s)", [namespace, key])
        yield other
    finally:
        other.rollback()
        other.close()


def test_r15_6_the_evaluation_lock_is_keyed_by_purpose_and_account(cast):
    with held(EVALUATION, cast.account_a.pk):
        assert evaluate(cast.account_a, NOW).skipped
        assert not evaluate(cast.account_b, NOW).skipped  # another account never waits
    with held(APPLIANCE_SYNC, cast.account_a.pk):
        assert not evaluate(cast.account_a, NOW).skipped  # another purpose with the same number


def test_r15_6_requests_while_a_run_holds_the_account_are_kept_and_the_next_run_serves_them(cast):
    with held(EVALUATION, cast.account_a.pk):
        assert evaluate_on_demand(cast.account_a, NOW).skipped
        assert evaluate_on_demand(cast.account_a, NOW).skipped
        assert EvaluationRequest.objects.get(account=cast.account_a).generation == 2  # one row: coalesced
    assert not evaluate(cast.account_a, NOW).skipped  # a replay committed at another time serves no request
    assert EvaluationRequest.objects.filter(account=cast.account_a).exists()
    assert not evaluate(cast.account_a, timezone.now()).skipped
    assert not EvaluationRequest.objects.filter(account=cast.account_a).exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_r15_6_settings_saved_while_beat_holds_the_account_take_effect_after_it(tmp_path):
    cast = build_cast()
    make_appliance(cast.account_a, cast.org_a1, "ueb", last_contact_at=timezone.now() - timedelta(hours=2))
    evaluate(cast.account_a, timezone.now())
    alert = Alert.objects.get(state="open")
    flush_broker()
    worker = Worker(tmp_path / "worker.log", EVALUATION_RETRY_SECONDS=1,
                    EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend").start()
    client = api_client(cast.superuser_a)
    try:
        with held(EVALUATION, cast.account_a.pk) as beat:
            asked = timezone.now()
            for category in ("appliance", "storage", "backup", "license", "security"):  # five requests
                response = client.patch("/api/v1/settings/alerts/", {"categories": {category: False}}, format="json")
                assert response.status_code == 200
            time.sleep(2)  # the queued run waits its turn
            alert.refresh_from_db()
            assert alert.state == "open"
            beat.commit()  # beat's run ends
            resolved = wait_for(lambda: Alert.objects.filter(pk=alert.pk, state="resolved").exists(), timeout=30)
        assert resolved, (tmp_path / "worker.log").read_text()[-3000:]
        alert.refresh_from_db()
        assert alert.resolved_reason == "category_disabled"
        time.sleep(2)  # no further run follows
        runs = Evaluation.objects.filter(account=cast.account_a, started_at__gte=asked, skipped=False)
        assert runs.count() == 1  # five requests while one ran: one more run after it
        assert not EvaluationRequest.objects.exists()
    finally:
        worker.stop()
