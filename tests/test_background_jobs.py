"""Heavy work leaves the request: evaluations and syncs asked for from a page or the API run as
background jobs in a worker; the API answers 202 with the job, the page polls it until it is done."""

from datetime import timedelta

import pytest
from celery import Celery
from django.test import Client
from django.utils import timezone

from alerts.models import Alert
from alerts.tasks import run_evaluation_job
from fakes.datto import asset
from integrations.models import Integration
from integrations.tasks import run_sync_job
from inventory.models import DattoClient
from tenancy import background
from tenancy.models import BackgroundJob
from tests.browser import log_in
from tests.conftest import PASSWORD, api_client, build_cast, make_appliance
from tests.workers import Worker, flush_broker, wait_for


def browser(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def datto(cast, datto_fake):
    fake = datto_fake
    fake.clients = [{"id": 1, "name": "Acme"}]
    fake.assets = {"1": [asset("vm-1", "web")]}
    integration = Integration.objects.create(
        account=cast.account_a, kind="datto", name="Datto", base_url=fake.url + "/v1",
        credentials={"public_key": fake.username, "secret_key": fake.secret},
    )
    yield integration


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_an_evaluation_asked_for_in_the_api_runs_in_a_worker_and_answers_a_job_to_poll(tmp_path):
    cast = build_cast()
    make_appliance(cast.account_a, cast.org_a1, "ueb", last_contact_at=timezone.now() - timedelta(hours=2))
    flush_broker()
    worker = Worker(tmp_path / "worker.log", EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend").start()
    client = api_client(cast.superuser_a)
    try:
        response = client.post("/api/v1/evaluations/", {}, format="json")
        assert response.status_code == 202, response.content
        job = response.json()
        assert job["state"] in ("queued", "running", "done") and job["requested_by"] == "super@a.example"
        assert job["url"].endswith(f"/api/v1/background-jobs/{job['id']}/")

        def finished():
            body = client.get(f"/api/v1/background-jobs/{job['id']}/").json()
            return body if body["finished"] else None

        done = wait_for(finished, timeout=30)
        assert done, (tmp_path / "worker.log").read_text()[-3000:]
    finally:
        worker.stop()
    assert done["state"] == "done" and done["result"]["raised"] == 1
    assert done["summary"].startswith("1 alert raised, 0 alerts resolved; 0 still open.")
    assert done["started_at"] and done["finished_at"]
    assert Alert.objects.filter(account=cast.account_a, state="open").count() == 1
    assert api_client(cast.superuser_b).get(f"/api/v1/background-jobs/{job['id']}/").status_code == 404
    assert api_client(cast.monitor_a).get("/api/v1/background-jobs/").status_code == 403


def test_a_script_may_wait_for_the_counts_of_an_evaluation(cast):
    make_appliance(cast.account_a, cast.org_a1, "ueb", last_contact_at=timezone.now() - timedelta(hours=2))
    response = api_client(cast.superuser_a).post("/api/v1/evaluations/?wait=1", {}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["raised"], body["resolved"]) == (1, 0) and body["job"]["state"] == "done"
    assert BackgroundJob.objects.get().result["raised"] == 1


def test_a_sync_asked_for_in_the_api_answers_202_with_the_job_and_the_worker_runs_it(cast, datto):
    client = api_client(cast.superuser_a)
    response = client.post(f"/api/v1/integrations/{datto.pk}/sync/")
    assert response.status_code == 202 and response.json()["state"] == "queued"
    assert not DattoClient.objects.exists()  # nothing ran in the request
    run_sync_job(response.json()["id"])  # what the worker does with the message
    body = client.get(response.json()["url"]).json()
    assert body["state"] == "done" and body["result"]["ok"] is True and body["label"] == "Sync of Datto Portal (Backup for Microsoft Azure): Datto"
    assert DattoClient.objects.get().name == "Acme"
    assert api_client(cast.superuser_b).get(response.json()["url"]).status_code == 404


def test_the_sync_button_shows_a_page_that_polls_the_job_until_it_is_done(cast, datto):
    page = browser(cast.superuser_a)
    assert 'data-testid="sync-now"' in page.get("/settings/integrations/").content.decode()
    response = page.post(f"/settings/integrations/{datto.pk}/sync/")
    job = BackgroundJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/settings/background-jobs/{job.pk}/"
    html = page.get(response["Location"]).content.decode()
    assert "Queued" in html and 'hx-trigger="every 1s"' in html and "super@a.example" in html
    run_sync_job(job.pk)
    fragment = page.get(f"/settings/background-jobs/{job.pk}/status/").content.decode()
    assert "Done" in fragment and "hx-trigger" not in fragment  # finished: the polling stops
    assert "Datto" in fragment and "not yet" not in fragment
    other = browser(cast.superuser_b)
    assert other.get(f"/settings/background-jobs/{job.pk}/").status_code == 404
    assert other.post(f"/settings/integrations/{datto.pk}/sync/").status_code == 404
    assert browser(cast.monitor_a).get(f"/settings/background-jobs/{job.pk}/").status_code == 403


def test_the_evaluate_now_button_runs_the_evaluation_as_a_job(cast):
    make_appliance(cast.account_a, cast.org_a1, "ueb", last_contact_at=timezone.now() - timedelta(hours=2))
    page = browser(cast.superuser_a)
    assert 'data-testid="evaluate-now"' in page.get("/settings/alerts/").content.decode()
    assert 'data-testid="evaluate-now"' not in browser(cast.admin_a).get("/settings/alerts/").content.decode()
    assert browser(cast.admin_a).post("/settings/alerts/evaluate/").status_code == 403
    response = page.post("/settings/alerts/evaluate/")
    job = BackgroundJob.objects.get()
    assert response["Location"] == f"/settings/background-jobs/{job.pk}/" and not Alert.objects.exists()
    run_evaluation_job(job.pk)
    html = page.get(response["Location"]).content.decode()
    assert "1 alert raised, 0 alerts resolved" in html and Alert.objects.count() == 1


def test_a_failed_sync_is_a_failed_job_that_says_why(cast, datto):
    datto.credentials = {"public_key": "wrong", "secret_key": "wrong"}
    datto.save()
    job = api_client(cast.superuser_a).post(f"/api/v1/integrations/{datto.pk}/sync/").json()
    run_sync_job(job["id"])
    failed = BackgroundJob.objects.get(pk=job["id"])
    assert failed.state == "failed" and "failed" in failed.summary and failed.finished_at is not None


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_evaluate_now_page_follows_its_job_in_a_real_browser_until_it_is_done(live_server, browser_page, tmp_path):
    cast = build_cast()
    make_appliance(cast.account_a, cast.org_a1, "ueb", last_contact_at=timezone.now() - timedelta(hours=2))
    flush_broker()
    page = browser_page
    log_in(page, live_server, "super@a.example", PASSWORD)
    page.goto(f"{live_server.url}/settings/alerts/")
    page.click("[data-testid=evaluate-now]")
    page.wait_for_url(f"{live_server.url}/settings/background-jobs/*/")
    assert page.get_attribute("[data-testid=job-status]", "data-state") == "queued"  # no worker yet
    worker = Worker(tmp_path / "worker.log", EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend").start()
    try:  # the page is not reloaded: htmx polls the job until the worker has done it
        page.wait_for_selector("[data-testid=job-status][data-state=done]", timeout=30000)
    finally:
        worker.stop()
    assert "1 alert raised" in page.text_content("[data-testid=job-summary]")
    assert Alert.objects.filter(state="open").count() == 1


def test_a_wait_that_is_not_a_yes_or_no_is_a_400_naming_the_field(cast):
    response = api_client(cast.superuser_a).post("/api/v1/evaluations/?wait=soon", {}, format="json")
    assert response.status_code == 400 and "wait" in response.json()["errors"]
    assert not BackgroundJob.objects.exists()


def test_a_job_whose_task_cannot_be_queued_says_so_instead_of_staying_queued(cast, monkeypatch):
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:9/0")  # nothing listens there: refused
    unreachable = Celery("unreachable", set_as_current=False)
    unreachable.conf.broker_connection_timeout = 1
    unreachable.conf.broker_transport_options = {"max_retries": 1}

    @unreachable.task(shared=False)
    def nothing(job_id):
        return job_id

    job = BackgroundJob.objects.create(account=cast.account_a, kind="sync", label="Sync of Datto")
    background._send(nothing, job.pk)
    job.refresh_from_db()
    assert job.state == "failed" and job.finished_at is not None
    assert "could not be reached" in job.summary


def test_a_job_that_crashes_fails_saying_so_for_a_person_without_the_exception_text(cast):
    def crash(job):
        raise KeyError("credentials")  # an unexpected error: its text is for the log, not the page

    job = background.start(cast.account_a, cast.superuser_a, "sync", "Sync of Datto", None, crash, wait=True)
    assert job.state == "failed" and job.finished_at is not None
    assert "'credentials'" not in job.summary and "KeyError" not in job.summary
    assert job.summary.startswith("Failed: an unexpected error stopped it")
