"""R12.2: active jobs, and a cancel that reaches the appliance and is confirmed."""

import pytest

from fakes.unitrends import unitrends_integration
from integrations.unitrends.client import UnitrendsClient
from integrations.unitrends.poller import sync
from inventory.models import Job
from tests.conftest import NOW, api_client


@pytest.fixture
def running_job(cast, unitrends_fake):
    integration = unitrends_integration(cast.account_a, cast.org_a1, unitrends_fake)
    sync(integration, NOW, UnitrendsClient.for_integration(integration, retries=0))
    return Job.objects.get(external_id="501")


def test_r12_2_jobs_state_running_lists_the_accounts_active_jobs(cast, running_job):
    body = api_client(cast.monitor_a).get("/api/v1/jobs/?state=running").json()
    assert [j["id"] for j in body["results"]] == [running_job.pk]
    assert body["results"][0]["asset_name"] == "sql-01" and body["results"][0]["progress_percent"] == 35
    assert api_client(cast.superuser_b).get("/api/v1/jobs/?state=running").json()["results"] == []  # R1.1
    assert api_client(cast.monitor_a).get("/api/v1/jobs/?state=finished").json()["results"] == []


def test_r12_2_cancel_of_a_running_job_reaches_the_appliance_and_is_confirmed(cast, running_job, unitrends_fake):
    response = api_client(cast.admin_a).post(f"/api/v1/jobs/{running_job.pk}/cancel/")

    assert response.status_code == 200 and response.json()["state"] == "cancelled"
    assert unitrends_fake.appliance.cancelled == [501]
    assert ("PUT", "/api/jobs/501/cancel", {}) in [(r.method, r.path, r.query) for r in unitrends_fake.requests]
    running_job.refresh_from_db()
    assert running_job.state == "cancelled" and running_job.finished_at is not None


def test_r12_2_a_cancel_whose_connection_drops_after_acting_is_still_confirmed(cast, running_job, unitrends_fake):
    unitrends_fake.drop_after_acting(None)
    response = api_client(cast.superuser_a).post(f"/api/v1/jobs/{running_job.pk}/cancel/")
    assert response.status_code == 200 and response.json()["state"] == "cancelled"
    assert unitrends_fake.appliance.cancelled == [501]


def test_r12_2_a_cancel_the_appliance_cannot_receive_changes_nothing(cast, running_job, unitrends_fake):
    unitrends_fake.server_error(status=500, paths={"/api/jobs/501/cancel", "/api/jobs/active"})
    response = api_client(cast.admin_a).post(f"/api/v1/jobs/{running_job.pk}/cancel/")
    assert response.status_code == 409 and "could not be confirmed" in response.json()["detail"]
    running_job.refresh_from_db()
    assert running_job.state == "running"


def test_r1_2_a_monitor_cannot_cancel_and_another_account_gets_404(cast, running_job, unitrends_fake):
    assert api_client(cast.monitor_a).post(f"/api/v1/jobs/{running_job.pk}/cancel/").status_code == 403
    assert api_client(cast.superuser_b).post(f"/api/v1/jobs/{running_job.pk}/cancel/").status_code == 404
    assert unitrends_fake.appliance.cancelled == []


def test_r12_2_a_finished_job_cannot_be_cancelled(cast, running_job):
    Job.objects.filter(pk=running_job.pk).update(state="finished")
    response = api_client(cast.admin_a).post(f"/api/v1/jobs/{running_job.pk}/cancel/")
    assert response.status_code == 409 and "finished" in response.json()["detail"]
