"""Several schedules per asset (R4.7): the backup alarm reads the latest due start over all
of them (R5.1), the checklist lists each (R7.1), and the API and the appliance sync keep them all."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from alerts.evaluation import evaluate
from alerts.models import Alert
from fakes.unitrends import FakeAppliance, UnitrendsFake, unitrends_integration
from integrations.unitrends.client import UnitrendsClient
from integrations.unitrends.poller import sync
from inventory.models import Asset, BackupSchedule
from tests.conftest import NOW, api_client, make_appliance, make_asset
from tests.test_backup_alarm import make_backup, open_alarms, set_global

# NOW is Monday 2026-11-02 12:00 UTC. The weekly full ran on Sunday 2026-10-25 at 23:00
# (its latest due start with N = 24 h); the daily incremental's due start is 2026-10-31 22:00.
DAILY = {"name": "Daily incremental", "rrule": "FREQ=DAILY;BYHOUR=22;BYMINUTE=0", "dtstart": "2026-10-01T22:00:00"}
WEEKLY = {"name": "Weekly full", "rrule": "FREQ=WEEKLY;BYDAY=SU;BYHOUR=23;BYMINUTE=0", "dtstart": "2026-10-04T23:00:00"}
LAST_FULL = datetime(2026, 10, 25, 23, 0, tzinfo=UTC)


def two_schedules(cast):
    asset = make_asset(make_appliance(cast.account_a, cast.org_a1), rrule=None)
    for schedule in (DAILY, WEEKLY):
        BackupSchedule.objects.create(account=cast.account_a, asset=asset, **schedule)
    return asset


def test_r5_1_r4_7_a_weekly_full_does_not_hide_six_missed_daily_incrementals(cast):
    set_global(cast.account_a)
    asset = two_schedules(cast)
    make_backup(asset, LAST_FULL + timedelta(minutes=40), started_at=LAST_FULL)  # the weekly full alone
    evaluate(cast.account_a, NOW)
    [alarm] = open_alarms(cast.account_a)
    assert alarm.details["due_start"] == "2026-10-31T22:00:00+00:00"  # the daily one's, the later of the two
    assert alarm.details["missed_starts"] == 6  # 26…31 October at 22:00


def test_r5_1_r4_7_a_good_backup_after_the_latest_due_start_of_every_schedule_keeps_the_asset_quiet(cast):
    set_global(cast.account_a)
    asset = two_schedules(cast)
    make_backup(asset, datetime(2026, 10, 31, 23, 0, tzinfo=UTC))
    evaluate(cast.account_a, NOW)
    assert open_alarms(cast.account_a) == []


def test_r7_1_r4_7_the_checklist_lists_each_schedule_with_its_last_and_next_start(cast):
    set_global(cast.account_a)
    asset = two_schedules(cast)
    make_backup(asset, LAST_FULL + timedelta(minutes=40), started_at=LAST_FULL)
    evaluate(cast.account_a, NOW)
    [alarm] = open_alarms(cast.account_a)
    check = next(c for c in alarm.details["checks"] if c["key"] == "backup_schedule")
    assert check["label"] == "Backup schedules" and check["ok"] is True
    assert check["schedules"] == [
        {"name": "Daily incremental", "rrule": DAILY["rrule"],
         "last_start": "2026-11-01T22:00:00+00:00", "next_start": "2026-11-02T22:00:00+00:00"},
        {"name": "Weekly full", "rrule": WEEKLY["rrule"],
         "last_start": "2026-11-01T23:00:00+00:00", "next_start": "2026-11-08T23:00:00+00:00"},
    ]
    assert check["value"] == (
        "Daily incremental (FREQ=DAILY;BYHOUR=22;BYMINUTE=0) — last start 2026-11-01 22:00 UTC, next start 2026-11-02 22:00 UTC; "
        "Weekly full (FREQ=WEEKLY;BYDAY=SU;BYHOUR=23;BYMINUTE=0) — last start 2026-11-01 23:00 UTC, next start 2026-11-08 23:00 UTC"
    )
    browser = Client()
    browser.force_login(cast.monitor_a)
    page = browser.get(f"/alerts/{alarm.pk}/").content.decode()
    assert "Weekly full (FREQ=WEEKLY;BYDAY=SU;BYHOUR=23;BYMINUTE=0) — last start 2026-11-01 23:00 UTC" in page


def test_r4_7_the_asset_detail_shows_each_schedule_with_its_last_and_next_start(cast):
    asset = two_schedules(cast)
    before = datetime.now(UTC)
    detail = api_client(cast.monitor_a).get(f"/api/v1/assets/{asset.pk}/").json()
    after = datetime.now(UTC)
    daily, weekly = detail["backup_schedules"]
    for schedule, period, at in ((daily, timedelta(days=1), (22, 0)), (weekly, timedelta(days=7), (23, 0))):
        last, following = (datetime.fromisoformat(schedule[k].replace("Z", "+00:00")) for k in ("last_start", "next_start"))
        assert last <= after and following > before and following - last == period
        assert (last.hour, last.minute) == at
    assert weekly["name"] == "Weekly full" and datetime.fromisoformat(weekly["last_start"].replace("Z", "+00:00")).weekday() == 6
    browser = Client()
    browser.force_login(cast.monitor_a)
    page = browser.get(f"/assets/{asset.pk}/").content.decode()
    assert "Daily incremental: last start" in page and "Weekly full: last start" in page


# --- the API -----------------------------------------------------------------

def test_r4_7_the_api_takes_and_answers_several_schedules(cast):
    appliance = make_appliance(cast.account_a, cast.org_a1, "ueb")
    client = api_client(cast.superuser_a)
    created = client.post("/api/v1/assets/", {
        "appliance": appliance.pk, "name": "fs", "type": "windows", "external_id": "fs",
        "backup_schedules": [DAILY, WEEKLY],
    }, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["backup_schedules"] == [DAILY, WEEKLY]
    assert body["backup_schedule"] == {"rrule": DAILY["rrule"], "dtstart": DAILY["dtstart"]}  # the first, as before
    listed = client.get("/api/v1/assets/", {"appliance": appliance.pk}).json()["results"]
    assert listed[0]["backup_schedules"] == [DAILY, WEEKLY]

    set_global(cast.account_a)
    make_backup(Asset.objects.get(pk=body["id"]), LAST_FULL + timedelta(minutes=40), started_at=LAST_FULL)
    evaluate(cast.account_a, NOW)
    assert len(open_alarms(cast.account_a)) == 1  # R5.1 over both schedules


def test_r4_7_writing_backup_schedule_replaces_the_list_with_that_one(cast):
    appliance = make_appliance(cast.account_a, cast.org_a1, "ueb")
    client = api_client(cast.superuser_a)
    asset = client.post("/api/v1/assets/", {
        "appliance": appliance.pk, "name": "fs", "type": "windows", "external_id": "fs",
        "backup_schedules": [DAILY, WEEKLY],
    }, format="json").json()
    one = {"rrule": "FREQ=DAILY;BYHOUR=3", "dtstart": "2026-11-01T03:00:00"}
    patched = client.patch(f"/api/v1/assets/{asset['id']}/", {"backup_schedule": one}, format="json").json()
    assert patched["backup_schedules"] == [{"name": "", **one}] and patched["backup_schedule"] == one
    kept = client.patch(f"/api/v1/assets/{asset['id']}/", {"name": "fs-01"}, format="json").json()
    assert kept["backup_schedules"] == [{"name": "", **one}]  # a write without either leaves them
    emptied = client.patch(f"/api/v1/assets/{asset['id']}/", {"backup_schedules": []}, format="json").json()
    assert emptied["backup_schedules"] == [] and emptied["backup_schedule"] is None
    assert not BackupSchedule.objects.filter(asset_id=asset["id"]).exists()


def test_r4_7_a_write_naming_both_forms_is_refused_and_changes_nothing(cast):
    appliance = make_appliance(cast.account_a, cast.org_a1, "ueb")
    client = api_client(cast.superuser_a)
    asset = client.post("/api/v1/assets/", {
        "appliance": appliance.pk, "name": "fs", "type": "windows", "external_id": "fs", "backup_schedules": [DAILY],
    }, format="json").json()
    both = client.patch(f"/api/v1/assets/{asset['id']}/", {"backup_schedules": [WEEKLY], "backup_schedule": None},
                        format="json")
    assert both.status_code == 400 and "backup_schedule" in both.json()["errors"]
    assert list(BackupSchedule.objects.filter(asset_id=asset["id"]).values_list("name", flat=True)) == ["Daily incremental"]


def test_r4_7_the_compatibility_property_answers_the_first_schedule(cast):
    asset = two_schedules(cast)
    assert asset.backup_schedule.name == "Daily incremental"
    assert make_asset(make_appliance(cast.account_a, cast.org_a1, "bare"), rrule=None).backup_schedule is None


# --- the appliance sync --------------------------------------------------------

@pytest.fixture
def appliance_with_two_job_orders():
    appliance = FakeAppliance("ueb-01")
    appliance.add_asset(101, "fs-01")
    appliance.add_asset(102, "sql-01", "sql")
    appliance.add_schedule(1, "Daily incremental", [101, 102], DAILY["rrule"], dtstart="20261001T220000")
    appliance.add_schedule(2, "Weekly full", [101], WEEKLY["rrule"], dtstart="20261004T230000")
    appliance.add_backup(1, 101, LAST_FULL, minutes=40, mode="Full")
    appliance.add_backup(2, 102, datetime(2026, 10, 31, 22, 0, tzinfo=UTC), minutes=40)
    server = UnitrendsFake({"": appliance}).start()
    yield server
    server.stop()


def run_sync(integration, now=NOW):
    return sync(integration, now, UnitrendsClient.for_integration(integration, retries=0))


def stored(name):
    return list(BackupSchedule.objects.filter(asset__name=name).values_list("name", "rrule", "dtstart"))


def test_r4_7_the_sync_stores_every_job_order_an_asset_is_in(cast, appliance_with_two_job_orders):
    integration = unitrends_integration(cast.account_a, cast.org_a1, appliance_with_two_job_orders)
    run_sync(integration)
    assert stored("fs-01") == [
        ("Daily incremental", DAILY["rrule"], DAILY["dtstart"]), ("Weekly full", WEEKLY["rrule"], WEEKLY["dtstart"]),
    ]
    assert stored("sql-01") == [("Daily incremental", DAILY["rrule"], DAILY["dtstart"])]

    set_global(cast.account_a)
    evaluate(cast.account_a, NOW)  # R5.1: the weekly job order no longer hides the missed incrementals
    assert [a.asset.name for a in open_alarms(cast.account_a)] == ["fs-01"]


def test_r4_7_r5_2_a_job_order_the_asset_left_is_removed_and_its_alarm_resolves(cast, appliance_with_two_job_orders):
    integration = unitrends_integration(cast.account_a, cast.org_a1, appliance_with_two_job_orders)
    run_sync(integration)
    set_global(cast.account_a)
    evaluate(cast.account_a, NOW)
    assert len(open_alarms(cast.account_a)) == 1

    appliance_with_two_job_orders.appliance.leave_schedule(1, 101)
    summary = run_sync(integration, NOW + timedelta(minutes=5))
    assert stored("fs-01") == [("Weekly full", WEEKLY["rrule"], WEEKLY["dtstart"])]
    assert stored("sql-01") == [("Daily incremental", DAILY["rrule"], DAILY["dtstart"])]
    assert "synced" in summary

    evaluate(cast.account_a, NOW + timedelta(minutes=5))
    assert open_alarms(cast.account_a) == []
    assert Alert.objects.get(asset__name="fs-01").state == "resolved"


def test_r4_7_a_sync_with_nothing_changed_rewrites_no_schedule(cast, appliance_with_two_job_orders):
    integration = unitrends_integration(cast.account_a, cast.org_a1, appliance_with_two_job_orders)
    run_sync(integration)
    before = sorted(BackupSchedule.objects.values_list("pk", flat=True))
    run_sync(integration, NOW + timedelta(minutes=5))
    assert sorted(BackupSchedule.objects.values_list("pk", flat=True)) == before


def test_r4_7_r5_2_a_job_order_disabled_on_the_appliance_is_no_longer_a_schedule(cast, appliance_with_two_job_orders):
    integration = unitrends_integration(cast.account_a, cast.org_a1, appliance_with_two_job_orders)
    run_sync(integration)
    appliance_with_two_job_orders.appliance.joborders[1]["status"] = "disabled"  # the weekly full
    run_sync(integration, NOW + timedelta(minutes=5))
    assert stored("fs-01") == [("Daily incremental", DAILY["rrule"], DAILY["dtstart"])]


def test_r4_7_a_job_orders_name_is_stored_on_one_line_like_an_assets(cast, appliance_with_two_job_orders):
    appliance_with_two_job_orders.appliance.joborders[0]["name"] = "  Daily\r\nincremental\x00 "
    run_sync(unitrends_integration(cast.account_a, cast.org_a1, appliance_with_two_job_orders))
    assert [name for name, _, _ in stored("sql-01")] == ["Daily incremental"]
