"""Issue 12, items 4–8 as a reviewer checks them: the edges the first tests left open.

Heavy work leaves the request: a job whose worker is killed mid-run does not stay
"running" for ever; the API's evaluation and sync answers are documented as they are.
"""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from integrations.models import Integration
from tenancy.models import BackgroundJob
from tests.conftest import api_client, build_cast
from tests.fakes.datto import FakeDatto, asset
from tests.workers import Worker, flush_broker, wait_for


def browser(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db(transaction=True)
def test_a_job_whose_worker_is_killed_mid_run_ends_as_failed_once_its_time_is_up(tmp_path, settings):
    cast = build_cast()
    fake = FakeDatto().start()
    fake.clients, fake.assets = [{"id": 1, "name": "Acme"}], {"1": [asset("vm-1", "web")]}
    fake.delay = 20  # the vendor is slow: the sync is still running when the worker dies
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
    assert "Failed" in html and "hx-trigger" not in html  # the page stops polling


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
