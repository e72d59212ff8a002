"""Issue 7 observability: /healthz, /metrics, request and task ids in structured logs."""

import json
import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.evaluation import evaluate
from alerts.models import Alert
from integrations.models import Integration
from observability import logs, tasklog
from observability.models import Heartbeat
from tests.conftest import NOW, api_client


@pytest.fixture
def beat_just_ran(db):
    tasklog.beat(tasklog.BEAT_HEARTBEAT, timezone.now() - timedelta(seconds=30))


def test_healthz_answers_200_with_every_check_when_all_parts_work(client, beat_just_ran):
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200 and body["status"] == "ok" and body["failing"] == []
    assert body["checks"]["database"]["ok"] and body["checks"]["broker"]["ok"]
    assert 25 <= body["checks"]["beat"]["age_seconds"] < 60


def test_healthz_is_503_naming_the_broker_when_it_is_unreachable(client, beat_just_ran, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["broker"]
    assert response.json()["checks"]["broker"]["error"] == "ConnectionError"


def test_healthz_is_503_naming_beat_when_the_sweeper_has_been_quiet_too_long(client, db, settings):
    settings.HEALTHZ_BEAT_MAX_AGE_SECONDS = 240
    tasklog.beat(tasklog.BEAT_HEARTBEAT, timezone.now() - timedelta(minutes=10))
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["failing"] == ["beat"]
    assert response.json()["checks"]["beat"]["age_seconds"] >= 600


def test_the_sweeper_finishing_in_a_worker_records_the_beat_heartbeat(db):
    from notifications.tasks import sweep

    Heartbeat.objects.all().delete()
    sweep.apply()  # runs the task with Celery's signals, as a worker would
    beat = Heartbeat.objects.get(name=tasklog.BEAT_HEARTBEAT)
    assert (timezone.now() - beat.at).total_seconds() < 10


def test_healthz_needs_no_login_and_shows_no_tenant_data(client, cast, beat_just_ran):
    body = client.get("/healthz").content.decode()
    assert "MSP A" not in body and "@a.example" not in body


def test_metrics_show_our_figures_to_loopback(client, cast, offline_appliances):
    evaluate(cast.account_a, NOW)
    Integration.objects.create(account=cast.account_a, kind="datto", name="D", last_sync_ok=False)
    ok = Integration.objects.create(account=cast.account_a, kind="datto", name="E", last_sync_ok=True)
    text = client.get("/metrics").content.decode()
    open_offline = Alert.objects.filter(state="open", kind="appliance_offline").count()
    assert f'uniview_open_alerts{{kind="appliance_offline"}} {float(open_offline)}' in text
    assert 'uniview_deliveries{state="pending"}' in text
    assert "uniview_evaluation_duration_seconds_count" in text
    failing = [line for line in text.splitlines() if line.startswith("uniview_integration_poll_failing{")]
    assert any(line.endswith(" 1.0") for line in failing)
    assert any(f'integration="{ok.pk}"' in line and line.endswith(" 0.0") for line in failing)
    assert "django_http_requests_total_by_method_total" in text  # django-prometheus' own


def test_metrics_are_refused_to_other_addresses(client, db, settings):
    assert client.get("/metrics", REMOTE_ADDR="10.0.0.7").status_code == 403
    settings.METRICS_ALLOW = ["10.0.0.0/8"]
    assert client.get("/metrics", REMOTE_ADDR="10.0.0.7").status_code == 200


def test_every_answer_carries_a_request_id_and_a_sane_incoming_one_is_kept(client, db):
    made = client.get("/healthz").headers["X-Request-ID"]
    assert len(made) == 32
    assert client.get("/healthz", HTTP_X_REQUEST_ID="edge-42.abc").headers["X-Request-ID"] == "edge-42.abc"
    assert client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nforged").headers["X-Request-ID"] != "bad id\nforged"


def test_log_lines_carry_the_request_id_as_json(cast, caplog):
    seen = []

    class Grab(logging.Handler):
        def emit(self, record):
            seen.append(logs.JsonFormatter().format(record))

    handler = Grab()
    handler.addFilter(logs.ContextFilter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        response = api_client(cast.superuser_a).get("/api/v1/alerts/999999/", HTTP_X_REQUEST_ID="req-7")
    finally:
        logger.removeHandler(handler)
    assert response.status_code == 404
    line = json.loads(seen[-1])
    assert line["request_id"] == "req-7" and line["level"] == "WARNING" and line["logger"] == "django.request"


def test_task_log_lines_carry_the_task_id(db):
    from celery import shared_task

    seen = []

    @shared_task(name="tests.observability.echo")
    def echo():
        seen.append(logs.task_id.get())

    result = echo.apply(task_id="task-abc")
    assert result.successful() and seen == ["task-abc"]
    assert logs.task_id.get() == ""  # cleared after the task


def test_the_json_formatter_keeps_extra_fields_and_exceptions():
    record = logging.makeLogRecord({"name": "x", "levelname": "ERROR", "msg": "boom %s", "args": (1,),
                                    "integration": 7})
    try:
        raise ValueError("bad")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["message"] == "boom 1" and line["integration"] == 7 and "ValueError: bad" in line["exc_info"]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_logs_json_lines_carrying_the_task_id(tmp_path):
    from notifications.tasks import sweep
    from tests.workers import Worker, wait_for

    worker = Worker(tmp_path / "worker.log", LOG_FORMAT="json").start()
    try:
        result = sweep.delay()

        def task_lines():
            lines = (tmp_path / "worker.log").read_text().splitlines()
            parsed = [json.loads(line) for line in lines if line.startswith("{")]
            return [entry for entry in parsed if entry.get("task_id") == result.id]

        assert wait_for(task_lines, timeout=30), (tmp_path / "worker.log").read_text()[-2000:]
        assert all(entry["level"] and entry["logger"] for entry in task_lines())
    finally:
        worker.stop()
