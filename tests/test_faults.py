"""Issue 7 reliability, with real processes: a flushed or restarted broker, two evaluations at once, two beats.

The database owns what must be delivered; the broker only carries nudges. So a flushed Redis
loses nothing (the sweeper re-sends), and two evaluators or two beats started by mistake make
no duplicate alert and no duplicate delivery (R13.5, R14.2, invariants 1, 3 and 6).
The PostgreSQL restart lives in tests/faults_pg_restart.py, run by `make faults` only: the
machine's PostgreSQL is shared.
"""

import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import timedelta

import pytest

from alerts.evaluation import evaluate
from alerts.models import Alert, AlertEvent
from notifications.models import Delivery
from observability.models import Heartbeat
from observability.tasklog import BEAT_HEARTBEAT
from tests.conftest import NOW, build_cast, make_appliance
from tests.workers import ROOT, Worker, flush_broker, wait_for, worker_env

pytestmark = pytest.mark.django_db(transaction=True)


class Beat:
    """A real `celery beat` with its own schedule file (a second one is the 'by mistake' case)."""

    def __init__(self, tmp_path, name, **env):
        self.log_path = tmp_path / f"{name}.log"
        self.env = worker_env(UNIVIEW_VAR_DIR=tmp_path / name, **env)
        (tmp_path / name).mkdir(exist_ok=True)
        self.proc = None

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "uniview", "beat", "--loglevel", "INFO"],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


class PrivateRedis:
    """A Redis of this test's own, so it can be killed and restarted without touching anyone else's."""

    def __init__(self):
        from fakes.smtp import free_port

        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )
        import redis

        assert wait_for(lambda: _pings(redis.Redis.from_url(self.url)), timeout=10)
        return self

    def kill(self):
        self.proc.kill()  # no shutdown, no persistence: every queued message is gone
        self.proc.wait(10)


def _pings(client):
    try:
        return client.ping()
    except Exception:  # noqa: BLE001 — not up yet
        return False


@pytest.fixture
def smtp(smtp_fake):
    server = smtp_fake
    yield server


def silent_appliances(cast, count):
    orgs = [cast.org_a1, cast.org_a2]
    return [make_appliance(cast.account_a, orgs[n % 2], f"silent-{n}", last_contact_at=NOW - timedelta(hours=1))
            for n in range(count)]


def assert_no_duplicates():
    open_fingerprints = Counter(Alert.objects.filter(state="open").values_list("account_id", "fingerprint"))
    assert all(n == 1 for n in open_fingerprints.values()), open_fingerprints
    raised = Counter(AlertEvent.objects.filter(type="raised").values_list("alert_id", flat=True))
    assert all(n == 1 for n in raised.values()), "an alert was raised twice"
    per_event = Counter(Delivery.objects.values_list("event_id", "channel"))
    assert all(n == 1 for n in per_event.values()), "an event got two deliveries on one channel"


@pytest.mark.slow
def test_r13_5_a_flushed_broker_loses_nothing_beats_sweeper_re_sends_every_pending_delivery(tmp_path, smtp):
    cast = build_cast()
    silent_appliances(cast, 4)
    evaluate(cast.account_a, NOW)  # commits alerts and deliveries; the nudges go to Redis…
    pending = set(Delivery.objects.values_list("pk", flat=True))
    assert len(pending) == 4  # one email delivery per raised alert
    flush_broker()  # …and are lost, as when Redis is flushed or restarted without persistence.
    Heartbeat.objects.all().delete()

    mail = {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": smtp.port, "EMAIL_BACKEND":
            "django.core.mail.backends.smtp.EmailBackend"}
    worker = Worker(tmp_path / "worker.log", **mail).start()
    beat = Beat(tmp_path, "beat", SWEEP_INTERVAL_SECONDS=2, **mail).start()
    try:
        sent = wait_for(lambda: Delivery.objects.filter(pk__in=pending, state="sent").count() == len(pending),
                        timeout=45)
        assert sent, (tmp_path / "worker.log").read_text()[-3000:]
        assert len(smtp.messages) == len(pending)  # each once
        # The sweeper ran from beat in the worker: /healthz sees beat alive.
        assert Heartbeat.objects.filter(name=BEAT_HEARTBEAT).exists()
    finally:
        beat.stop()
        worker.stop()


@pytest.mark.slow
def test_r14_2_two_evaluations_at_once_in_separate_processes_raise_each_alert_once(tmp_path):
    cast = build_cast()
    silent_appliances(cast, 12)
    env = worker_env()
    command = [sys.executable, "manage.py", "evaluate", "--account", str(cast.account_a.pk),
               "--now", NOW.isoformat(), "--commit"]
    runs = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            for _ in range(3)]
    outputs = [run.communicate(timeout=60)[0].decode() for run in runs]
    assert all(run.returncode == 0 for run in runs), outputs
    assert Alert.objects.filter(account=cast.account_a, state="open", kind="appliance_offline").count() == 12
    assert_no_duplicates()


@pytest.mark.slow
def test_r14_2_two_beats_by_mistake_make_no_duplicate_alert_or_delivery(tmp_path, smtp):
    cast = build_cast()
    silent_appliances(cast, 6)  # silent since NOW: every real-time evaluation sees them offline
    mail = {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": smtp.port, "EMAIL_BACKEND":
            "django.core.mail.backends.smtp.EmailBackend"}
    fast = {"EVALUATION_INTERVAL_SECONDS": 1, "SWEEP_INTERVAL_SECONDS": 1, **mail}
    workers = [Worker(tmp_path / f"worker-{n}.log", **mail).start() for n in range(2)]
    beats = [Beat(tmp_path, f"beat-{n}", **fast).start() for n in range(2)]
    try:
        evaluated = wait_for(lambda: Alert.objects.filter(account=cast.account_a, kind="appliance_offline").count() >= 6,
                             timeout=45)
        assert evaluated, (tmp_path / "worker-0.log").read_text()[-3000:]
        total = Delivery.objects.count()
        assert wait_for(lambda: Delivery.objects.filter(state="sent").count() == total, timeout=45)
        # Let both beats keep firing evaluations and sweeps a while longer.
        wait_for(lambda: False, timeout=4)
    finally:
        for process in beats + workers:
            process.stop()
    assert_no_duplicates()
    sent = Delivery.objects.filter(state="sent", channel="email").count()
    assert len(smtp.messages) == sent, (len(smtp.messages), sent)


@pytest.mark.slow
def test_r13_5_redis_restarted_empty_under_a_running_worker_and_beat_loses_no_delivery(tmp_path, smtp):
    cast = build_cast()
    broker = PrivateRedis().start()
    mail = {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": smtp.port,
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend", "CELERY_BROKER_URL": broker.url}
    worker = Worker(tmp_path / "worker.log", **mail).start()
    beat = Beat(tmp_path, "beat", SWEEP_INTERVAL_SECONDS=1, **mail).start()
    try:
        broker.kill()
        # While the broker is down, alerts are raised and their deliveries committed (the
        # nudges go nowhere the worker listens).
        make_appliance(cast.account_a, cast.org_a1, "silent", last_contact_at=NOW - timedelta(hours=1))
        evaluate(cast.account_a, NOW)
        flush_broker()
        pending = set(Delivery.objects.values_list("pk", flat=True))
        assert pending and not Delivery.objects.filter(state="sent").exists()
        broker.start()  # the same address, empty
        assert wait_for(lambda: Delivery.objects.filter(pk__in=pending, state="sent").count() == len(pending),
                        timeout=45), (tmp_path / "worker.log").read_text()[-3000:]
        assert len(smtp.messages) == len(pending)
    finally:
        beat.stop()
        worker.stop()
        broker.kill()
