"""The appliance poller (issue 5 item 1): a real client over HTTP against the fake appliance."""

from datetime import timedelta

import pytest

from alerts.evaluation import evaluate
from alerts.models import Alert
from fakes.unitrends import unitrends_integration
from integrations.pollers import poll
from integrations.unitrends.client import UnitrendsClient
from integrations.unitrends.poller import SyncFailed, sync
from inventory.models import Appliance, ApplianceAlert, Asset, Backup, BackupCopy, Job
from tenancy.locks import APPLIANCE_SYNC
from tests.conftest import NOW, api_client
from thresholds.models import GlobalThreshold


@pytest.fixture
def integration(cast, unitrends_fake):
    return unitrends_integration(cast.account_a, cast.org_a1, unitrends_fake)


def quick(integration, **kwargs):
    """The production client, with no transport retries so failure tests stay fast."""
    return UnitrendsClient.for_integration(integration, retries=0, **kwargs)


def test_the_first_sync_fills_inventory_from_the_appliance(cast, integration):
    summary = sync(integration, NOW, quick(integration))

    appliance = Appliance.objects.get(account=cast.account_a)
    assert "synced" in summary and integration.options["appliance"] == appliance.pk
    assert (appliance.organization, appliance.version, appliance.status) == (cast.org_a1, "10.8.2", "online")
    assert appliance.logical_capacity_bytes == 4_000_000 * 1024**2 and appliance.purge_eligible_backups == 5
    assert appliance.last_sync_at == NOW == appliance.last_contact_at and appliance.last_sync_error == ""
    fs, sql = Asset.objects.filter(appliance=appliance).order_by("name")
    assert (fs.name, fs.type, fs.hot_copy, sql.type, sql.hot_copy) == ("fs-01", "windows", True, "sql", False)
    assert fs.backup_schedule.rrule == "FREQ=DAILY;BYHOUR=22;BYMINUTE=0"
    assert fs.backup_schedule.dtstart == "2026-10-01T22:00:00"
    full = Backup.objects.get(asset=fs, external_id="1000")
    assert (full.type, full.status, full.size_bytes) == ("full", "success", 2048 * 1024**2)
    assert full.finished_at - full.started_at == timedelta(minutes=30)
    assert full.certified_at == full.started_at + timedelta(hours=5)  # the backup the certification ran on
    assert Backup.objects.get(asset=sql, external_id="2002").error == "VSS writer timed out"
    assert Backup.objects.filter(asset=fs).exclude(certified_at=None).count() == 1
    assert BackupCopy.objects.filter(asset=fs, target="hot").count() == 3
    assert BackupCopy.objects.get(asset=sql).target == "cold"
    job = Job.objects.get(appliance=appliance)
    assert (job.external_id, job.state, job.progress_percent, job.asset) == ("501", "running", 35, sql)
    assert set(ApplianceAlert.objects.values_list("category", flat=True)) == {"storage", "license"}


def test_a_second_sync_asks_only_for_what_changed_since_the_last_one(cast, integration, unitrends_fake):
    sync(integration, NOW, quick(integration))
    unitrends_fake.requests.clear()
    summary = sync(integration, NOW + timedelta(minutes=5), quick(integration))

    dated = {r.path: r.query for r in unitrends_fake.requests if "start_date" in r.query}
    assert set(dated) == {"/api/jobs/history", "/api/catalog", "/api/replication/queue", "/api/archive/history"}
    assert dated["/api/jobs/history"]["start_date"] == "11/01/2026"  # the last sync's day, less a day of overlap
    assert summary.endswith(", 0 changes")


def test_changes_on_the_appliance_arrive_at_the_next_sync(cast, integration, unitrends_fake):
    sync(integration, NOW, quick(integration))
    appliance = unitrends_fake.appliance
    appliance.history[-1]["status"] = "Success"
    appliance.active_jobs.clear()
    appliance.alerts.pop(0)
    appliance.system["version"] = "10.10.0"
    sync(integration, NOW + timedelta(minutes=5), quick(integration))

    assert Backup.objects.get(external_id="2002").status == "success"
    assert Job.objects.get().state == "finished"
    assert ApplianceAlert.objects.get(external_id="9001").active is False
    assert Appliance.objects.get().version == "10.10.0"


def test_a_sync_interrupted_halfway_keeps_inventory_consistent_and_resumes(cast, integration, unitrends_fake):
    unitrends_fake.server_error(status=500, paths={"/api/replication/queue"})
    message = poll(integration, NOW)

    integration.refresh_from_db()
    synced = Appliance.objects.get()
    assert "failed" in message and integration.last_sync_ok is False and "hot_copies" in integration.last_error
    assert synced.sync_cursor["run"]["done"] == ["system", "storage", "assets", "schedules", "backups"]
    assert synced.last_sync_at is None and synced.status == "online"  # it answered: not offline
    assert Backup.objects.count() == 6 and BackupCopy.objects.count() == 0  # whole steps, nothing half-written
    assert all(b.asset.appliance_id == synced.pk for b in Backup.objects.select_related("asset"))

    unitrends_fake.server_error(0)
    unitrends_fake.requests.clear()
    message = poll(integration, NOW + timedelta(minutes=5))

    synced.refresh_from_db()
    paths = [r.path for r in unitrends_fake.requests]
    assert "(resumed)" in message and "/api/assets" not in paths and "/api/replication/queue" in paths
    assert BackupCopy.objects.count() == 4 and Job.objects.count() == 1
    assert synced.last_sync_at == NOW + timedelta(minutes=5) and synced.sync_cursor["run"] is None
    assert synced.sync_cursor["since"] == NOW.isoformat()  # the window starts where the interrupted run did


def test_an_appliance_that_stops_answering_is_offline_and_keeps_its_data(cast, integration, unitrends_fake):
    sync(integration, NOW, quick(integration))
    unitrends_fake.stop()

    with pytest.raises(SyncFailed):
        sync(integration, NOW + timedelta(minutes=40), quick(integration))

    appliance = Appliance.objects.get()
    assert appliance.status == "offline" and "could not be reached" in appliance.last_sync_error
    assert appliance.last_sync_at == NOW == appliance.last_contact_at  # when the portal last reached it
    assert Backup.objects.count() == 6 and Asset.objects.count() == 2
    evaluate(cast.account_a, NOW + timedelta(minutes=40))
    assert Alert.objects.get(kind="appliance_offline", state="open").appliance_id == appliance.pk


def test_an_outage_answer_or_a_slow_appliance_counts_as_unreachable(cast, integration, unitrends_fake):
    sync(integration, NOW, quick(integration))
    unitrends_fake.server_error()
    with pytest.raises(SyncFailed, match="503"):
        sync(integration, NOW + timedelta(minutes=5), quick(integration))
    assert Appliance.objects.get().status == "offline"

    unitrends_fake.server_error(0)
    unitrends_fake.slow(1.0)
    with pytest.raises(SyncFailed, match="could not be reached"):
        sync(integration, NOW + timedelta(minutes=10), quick(integration, timeout=(1.0, 0.3)))
    unitrends_fake.slow(0)
    sync(integration, NOW + timedelta(minutes=15), quick(integration))
    assert Appliance.objects.get().status == "online"


def test_wrong_credentials_fail_the_sync_without_marking_the_appliance_offline(cast, unitrends_fake):
    integration = unitrends_integration(cast.account_a, cast.org_a1, unitrends_fake, password="wrong")
    message = poll(integration, NOW)
    assert "refused the credentials" in message and "wrong" not in message
    assert Appliance.objects.get().status == "online" and Asset.objects.count() == 0


def test_a_body_that_is_not_json_fails_the_step_and_loses_nothing(cast, integration, unitrends_fake):
    sync(integration, NOW, quick(integration))
    unitrends_fake.garbage(paths={"/api/jobs/history"})
    with pytest.raises(SyncFailed, match="not JSON"):
        sync(integration, NOW + timedelta(minutes=5), quick(integration))
    assert Backup.objects.count() == 6 and Appliance.objects.get().status == "online"


def test_malformed_rows_are_skipped_and_the_rest_syncs(cast, integration, unitrends_fake):
    appliance = unitrends_fake.appliance
    appliance.history.append({"instance_id": 101, "backup_id": 77, "status": "Success"})  # no start time
    appliance.history.append({"instance_id": 999, "backup_id": 78, "status": "Success", "sort_start_time": 1})
    appliance.history.append("not a record")
    appliance.alerts.append({"id": 5, "message": ""})
    sync(integration, NOW, quick(integration))
    assert Backup.objects.count() == 6 and ApplianceAlert.objects.count() == 2


def test_the_connection_test_and_sync_now_work_through_the_integrations_api(cast, integration):
    client = api_client(cast.superuser_a)
    response = client.post(f"/api/v1/integrations/{integration.pk}/test/")
    assert response.json() == {"ok": True, "message": "Connected to ueb-01 (version 10.8.2)."}
    response = client.post(f"/api/v1/integrations/{integration.pk}/sync/?wait=1")
    assert response.json()["ok"] is True and Asset.objects.filter(account=cast.account_a).count() == 2
    assert api_client(cast.superuser_b).post(f"/api/v1/integrations/{integration.pk}/sync/").status_code == 404


def test_r7_2_when_the_portal_cannot_reach_the_appliance_the_backup_alarm_blames_that_not_the_backups(
    cast, integration, unitrends_fake,
):
    GlobalThreshold.objects.create(account=cast.account_a, backups_hours=26, hot_copy_hours=48)
    later = NOW + timedelta(days=3)
    sync(integration, later, quick(integration))
    evaluate(cast.account_a, later)
    alarm = Alert.objects.get(kind="backup_alarm", state="open")
    assert alarm.details["root_cause"] == "last_backup_failed"

    unitrends_fake.stop()
    poll(integration, later + timedelta(minutes=5))
    evaluate(cast.account_a, later + timedelta(minutes=5))
    alarm.refresh_from_db()
    assert alarm.state == "open" and alarm.details["root_cause"] == "appliance_offline"


def test_two_overlapping_syncs_of_one_appliance_run_once(cast, integration, unitrends_fake):
    import psycopg
    from django.db import connection

    from integrations.unitrends.poller import appliance_for

    appliance = appliance_for(integration)
    settings = connection.settings_dict
    other = psycopg.connect(host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"],
                            password=settings["PASSWORD"] or None, dbname=settings["NAME"], autocommit=True)
    try:
        other.execute("SELECT pg_advisory_lock(%s, %s)", [APPLIANCE_SYNC, appliance.pk])  # another worker is syncing it
        assert sync(integration, NOW, quick(integration)).endswith("another sync is running")
        assert unitrends_fake.requests == [] and Asset.objects.count() == 0
    finally:
        other.execute("SELECT pg_advisory_unlock(%s, %s)", [APPLIANCE_SYNC, appliance.pk])
        other.close()
    assert "synced" in sync(integration, NOW, quick(integration))
