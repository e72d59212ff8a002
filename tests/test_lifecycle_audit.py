"""Issue 12, items 4–8 as a reviewer checks them: the edges the first tests left open.

Heavy work leaves the request: a job whose worker is killed mid-run does not stay "running"
for ever, a job waiting its turn says so, and the API's evaluation and sync answers are what
the schema documents (the old fields with `?wait=1`). R15.4: a re-read day updates the open
alert. R15.5: the command at the present writes. R15.6: a request outlives a killed run.
"""

from datetime import UTC, date, datetime, timedelta
from io import StringIO

import psycopg
import pytest
import schemathesis
from celery.exceptions import Retry
from django.core import signals
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, connection
from django.test import Client
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from alerts.evaluation import evaluate
from alerts.models import Alert, Evaluation, EvaluationRequest
from alerts.tasks import evaluate_all, run_evaluation_job
from fakes.datto import DattoFake, asset
from fakes.spanning import M365Fake
from integrations.models import Integration
from integrations.pollers import poll
from inventory.models import AzureAsset, SaasSource
from tenancy.locks import APPLIANCE_SYNC, EVALUATION, SAAS_POLL
from tenancy.models import ApiToken, BackgroundJob
from tests.conftest import NOW, api_client, build_cast, make_appliance
from tests.test_on_demand_evaluation import held
from tests.workers import Worker, flush_broker, wait_for

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # schemathesis 3 on newer jsonschema


def browser(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_job_whose_worker_is_killed_mid_run_ends_as_failed_once_its_time_is_up(tmp_path, settings):
    cast = build_cast()
    fake = DattoFake().start()
    fake.clients, fake.assets = [{"id": 1, "name": "Acme"}], {"1": [asset("vm-1", "web")]}
    fake.slow(20)  # the vendor is slow: the sync is still running when the worker dies
    integration = Integration.objects.create(
        account=cast.account_a, kind="datto", name="Datto", base_url=fake.url + "/v1",
        credentials={"public_key": fake.username, "secret_key": fake.secret},
    )
    flush_broker()
    worker = Worker(tmp_path / "worker.log").start()
    client = api_client(cast.superuser_a)
    try:
        job = client.post(f"/api/v1/integrations/{integration.pk}/sync/").json()
        running = wait_for(lambda: BackgroundJob.objects.filter(pk=job["id"], state="running").exists(), timeout=30)
        assert running, (tmp_path / "worker.log").read_text()[-3000:]
        worker.kill()  # no shutdown, no ack: the row says "running" and nobody is running it
    finally:
        worker.stop()
        fake.stop()
    settings.BACKGROUND_JOB_TIMEOUT_SECONDS = 3600
    assert client.get(job["url"]).json()["state"] == "running"  # within its time it may still be working

    BackgroundJob.objects.filter(pk=job["id"]).update(started_at=timezone.now() - timedelta(hours=2))
    body = client.get(job["url"]).json()
    assert body["state"] == "failed" and body["finished"] and body["finished_at"]
    assert body["summary"] == ("The worker running this stopped before it finished: nothing was heard "
                               "from it for 1 hour. Start it again.")
    html = browser(cast.superuser_a).get(f"/settings/background-jobs/{job['id']}/").content.decode()
    main = html.split("<main", 1)[1]  # the header's bell refreshes itself on every page
    assert "Failed" in main and "hx-trigger" not in main  # the page stops polling


def test_a_job_never_picked_up_ends_as_failed_and_a_fresh_one_is_left_alone(cast, settings):
    settings.BACKGROUND_JOB_TIMEOUT_SECONDS = 1800
    long_ago = timezone.now() - timedelta(hours=1)
    lost = BackgroundJob.objects.create(account=cast.account_a, kind="evaluation", label="Evaluation of every rule now")
    fresh = BackgroundJob.objects.create(account=cast.account_a, kind="sync", label="Sync of Datto")
    theirs = BackgroundJob.objects.create(account=cast.account_b, kind="sync", label="Sync of theirs")
    BackgroundJob.objects.filter(pk__in=[lost.pk, theirs.pk]).update(created_at=long_ago)

    listed = {j["id"]: j for j in api_client(cast.superuser_a).get("/api/v1/background-jobs/").json()["results"]}
    assert set(listed) == {lost.pk, fresh.pk}
    assert listed[lost.pk]["state"] == "failed"
    assert listed[lost.pk]["summary"] == "No worker picked this up within 30 minutes. Start it again."
    assert listed[fresh.pk]["state"] == "queued"
    theirs.refresh_from_db()
    assert theirs.state == "queued"  # reading one account's jobs never touches another's
    fragment = browser(cast.superuser_a).get(f"/settings/background-jobs/{lost.pk}/status/").content.decode()
    assert "Failed" in fragment and "No worker picked this up" in fragment


@pytest.fixture
def openapi(db):
    """The API's own schema, to hold its answers against; requests go through the WSGI app."""
    signals.request_started.disconnect(close_old_connections)  # keep the test's connection open
    signals.request_finished.disconnect(close_old_connections)
    yield schemathesis.from_dict(SchemaGenerator().get_schema(request=None, public=True), app=get_wsgi_application())
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def answer(openapi, token, path, query=None, body=None, **path_parameters):
    """POST through the app and check the answer against the schema (status, content type, shape)."""
    case = openapi[path]["POST"].make_case(path_parameters=path_parameters or None, query=query,
                                           body=body if body is not None else schemathesis.NOT_SET,
                                           media_type="application/json")
    response = case.call_wsgi(headers={"Authorization": f"Bearer {token}"})
    case.validate_response(response, checks=(status_code_conformance, content_type_conformance,
                                              response_schema_conformance))
    return response


def test_evaluations_with_wait_answer_the_fields_they_answered_before_jobs_and_as_documented(cast, openapi):
    make_appliance(cast.account_a, cast.org_a1, "ueb", last_contact_at=timezone.now() - timedelta(hours=2))
    token = ApiToken.issue(cast.superuser_a)[1]
    response = answer(openapi, token, "/api/v1/evaluations/", query={"wait": "1"}, body={})
    assert response.status_code == 201
    body, run = response.json, Evaluation.objects.get()
    assert {k: body[k] for k in ("id", "raised", "resolved", "kept", "skipped", "duration_ms")} == {
        "id": run.pk, "raised": 1, "resolved": 0, "kept": 0, "skipped": False, "duration_ms": run.duration_ms}
    assert body["now"] and body["started_at"] and body["job"]["state"] == "done"
    assert BackgroundJob.objects.get().result["raised"] == 1  # the job carries the counts too

    queued = answer(openapi, token, "/api/v1/evaluations/", body={})
    assert queued.status_code == 202 and queued.json["state"] == "queued"
    preview = answer(openapi, token, "/api/v1/evaluations/", body={"now": NOW.isoformat()})
    assert preview.status_code == 200 and preview.json["preview"] is True


def test_the_schema_documents_every_answer_of_evaluations_and_sync(db):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths, components = schema["paths"], schema["components"]["schemas"]
    evaluations = paths["/api/v1/evaluations/"]["post"]["responses"]
    assert set(evaluations) >= {"200", "201", "202"}
    ok = components[evaluations["200"]["content"]["application/json"]["schema"]["$ref"].rpartition("/")[2]]
    assert sorted(ref["$ref"] for ref in ok["oneOf"]) == ["#/components/schemas/BackgroundJob",
                                                         "#/components/schemas/Preview"]
    assert all(evaluations[code]["description"] for code in ("200", "201", "202"))
    result = components["EvaluationResult"]["properties"]
    assert set(result) >= {"id", "now", "started_at", "raised", "resolved", "kept", "skipped", "job"}
    sync = paths["/api/v1/integrations/{id}/sync/"]["post"]["responses"]
    assert sync["202"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/BackgroundJob"
    assert set(sync["200"]["content"]["application/json"]["schema"]["properties"]) == {"ok", "message", "job"}
    assert all(sync[code]["description"] for code in ("200", "202"))


def test_r15_4_a_day_spanning_re_reads_as_failed_updates_the_alert_already_open_for_the_source(cast):
    fake = M365Fake().start()
    try:
        integration = Integration.objects.create(
            account=cast.account_a, kind="spanning_m365", name="M365", base_url=fake.url + fake.prefix,
            credentials={"admin_email": fake.username, "api_token": fake.secret},
        )
        today = date(2026, 11, 2)
        for n, status in ((4, "Successful"), (3, "Partial"), (2, "Partial"), (1, "Successful")):
            fake.set_day(today - timedelta(days=n), status)
        early = datetime(2026, 11, 2, 0, 30, tzinfo=UTC)
        poll(integration, early)
        SaasSource.objects.update(organization=cast.org_a1)  # mapped: its days now alert (R8.1)
        evaluate(cast.account_a, early)
        alert = Alert.objects.get(state="open")
        yesterday = (today - timedelta(days=1)).isoformat()
        assert alert.details["level"] == "partial" and alert.details["window"][yesterday] == "Successful"

        fake.set_day(today - timedelta(days=1), "Failed")  # published at 03:00 for a day stored at 00:30
        poll(integration, early + timedelta(hours=2, minutes=30))
        [still] = Alert.objects.filter(state="open")
        assert still.pk == alert.pk  # the same alert, not a new one
        assert still.details["window"][yesterday] == "Failed"  # … that now shows what Spanning says
    finally:
        fake.stop()


def test_r15_6_an_evaluation_job_waiting_behind_a_running_one_says_so_on_its_page(cast):
    make_appliance(cast.account_a, cast.org_a1, "ueb", last_contact_at=timezone.now() - timedelta(hours=2))
    page = browser(cast.superuser_a)
    job_page = page.post("/settings/alerts/evaluate/")["Location"]
    job = BackgroundJob.objects.get()
    with held(EVALUATION, cast.account_a.pk):  # beat's run holds the account
        with pytest.raises(Retry):
            run_evaluation_job(job.pk)  # what the worker does with the message: try again later
    html = page.get(job_page).content.decode()
    assert 'data-state="queued"' in html and "hx-trigger" in html
    assert "Waiting for the evaluation already running for this account to finish." in html
    assert "Started</dt><dd>not yet" in html
    run_evaluation_job(job.pk)  # its turn
    job.refresh_from_db()
    assert job.state == "done" and job.summary.startswith("1 alert raised") and job.result["raised"] == 1


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_r15_6_a_request_outlives_a_killed_run_and_a_lost_message_and_beats_next_run_serves_it(tmp_path):
    cast = build_cast()
    make_appliance(cast.account_a, cast.org_a1, "ueb", last_contact_at=timezone.now() - timedelta(hours=2))
    evaluate(cast.account_a, timezone.now())
    alert = Alert.objects.get(state="open")
    flush_broker()
    client = api_client(cast.superuser_a)
    with held(EVALUATION, cast.account_a.pk):  # a worker's run holds the account …
        response = client.patch("/api/v1/settings/alerts/", {"categories": {"appliance": False}}, format="json")
        assert response.status_code == 200
    # … and dies: its transaction never commits, so it never looks for requests; the message
    # queued for the request is lost with the broker's memory.
    flush_broker()
    assert EvaluationRequest.objects.filter(account=cast.account_a).exists()  # the request is a row
    alert.refresh_from_db()
    assert alert.state == "open"
    worker = Worker(tmp_path / "worker.log", EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend").start()
    try:
        evaluate_all.delay()  # beat's next run
        served = wait_for(lambda: not EvaluationRequest.objects.exists(), timeout=30)
        assert served, (tmp_path / "worker.log").read_text()[-3000:]
    finally:
        worker.stop()
    alert.refresh_from_db()
    assert (alert.state, alert.resolved_reason) == ("resolved", "category_disabled")


def test_r15_5_the_evaluate_command_at_the_present_writes_without_commit(cast):
    make_appliance(cast.account_a, cast.org_a1, "ueb", last_contact_at=timezone.now() - timedelta(hours=2))
    out = StringIO()
    call_command("evaluate", account=cast.account_a.pk, now=timezone.now().isoformat(), stdout=out)
    assert "raised 1" in out.getvalue() and "preview" not in out.getvalue()
    assert Alert.objects.filter(account=cast.account_a, state="open").count() == 1
    call_command("evaluate", account=cast.account_a.pk, stdout=StringIO())  # no --now: the present too
    assert Evaluation.objects.filter(account=cast.account_a, skipped=False).count() == 2


def test_two_polls_of_one_datto_integration_never_overlap(cast):
    fake = DattoFake().start()
    fake.clients, fake.assets = [{"id": 1, "name": "Acme"}], {"1": [asset("vm-1", "web")]}
    integration = Integration.objects.create(
        account=cast.account_a, kind="datto", name="Datto", base_url=fake.url + "/v1",
        credentials={"public_key": fake.username, "secret_key": fake.secret},
    )
    db = connection.settings_dict
    other = psycopg.connect(host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"],
                            password=db["PASSWORD"] or None, dbname=db["NAME"], autocommit=True)
    try:
        other.execute("SELECT pg_advisory_lock(%s, %s)", [SAAS_POLL, integration.pk])  # beat's poll is running
        assert poll(integration, NOW).endswith("another poll of this integration is running; nothing done")
        assert fake.requests == [] and not AzureAsset.objects.exists()
    finally:
        other.execute("SELECT pg_advisory_unlock(%s, %s)", [SAAS_POLL, integration.pk])
        other.close()
    try:
        assert "1 Azure asset(s)" in poll(integration, NOW)
        assert AzureAsset.objects.get().name == "web"
    finally:
        fake.stop()
    assert len({EVALUATION, APPLIANCE_SYNC, SAAS_POLL}) == 3  # a namespace per purpose
