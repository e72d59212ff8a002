"""Alarm details (R7): five checks, one root cause (first that applies), a next step —
recorded on the alert and shown on its detail page and in the API."""

from datetime import timedelta

import pytest
from django.test import Client

from alerts.evaluation import evaluate
from tests.conftest import NOW, api_client, make_appliance, make_asset
from tests.test_backup_alarm import DUE, make_backup, make_copy, open_alarms, set_global

CHECKS = ["appliance", "last_good_backup", "backup_schedule", "last_good_hot_copy", "hot_copy_schedule"]


def alarm_for(cast, appliance_fields=None, backups=(), hot_copy=False):
    set_global(cast.account_a)
    appliance = make_appliance(cast.account_a, cast.org_a1, **(appliance_fields or {}))
    asset = make_asset(appliance, hot_copy=hot_copy)
    for backup in backups:
        make_backup(asset, **backup)
    evaluate(cast.account_a, NOW)
    [alarm] = open_alarms(cast.account_a)
    return alarm


@pytest.mark.slow
def test_r7_1_every_conditional_alarm_records_the_five_checks(cast):
    alarm = alarm_for(cast, backups=[{"finished_at": DUE - timedelta(hours=2)}], hot_copy=True)
    checks = {c["key"]: c for c in alarm.details["checks"]}
    assert list(checks) == CHECKS
    assert checks["appliance"] == {"key": "appliance", "label": "Appliance status", "ok": True, "value": "appliance-1: online"}
    assert checks["last_good_backup"]["ok"] is False
    assert checks["last_good_backup"]["value"] == "2026-10-31 20:00 UTC"
    assert checks["backup_schedule"]["value"].startswith("FREQ=DAILY;BYHOUR=22;BYMINUTE=0 — last start 2026-11-01 22:00 UTC")
    assert checks["backup_schedule"]["next_start"] == "2026-11-02T22:00:00+00:00"
    assert checks["last_good_hot_copy"]["value"] == "–"
    assert checks["hot_copy_schedule"]["value"].startswith("backups are hot-copied, but no hot copy has been seen")


def test_r7_2_an_offline_appliance_is_the_root_cause_before_a_failed_backup(cast):
    alarm = alarm_for(
        cast, appliance_fields={"last_contact_at": NOW - timedelta(hours=3)},
        backups=[{"finished_at": DUE + timedelta(hours=1), "status": "failed", "error": "disk full"}],
    )
    assert alarm.details["root_cause"] == "appliance_offline"
    assert alarm.details["failing_check"] == "appliance"
    assert "offline, last contact 2026-11-02 09:00 UTC" in alarm.details["checks"][0]["value"]
    assert alarm.details["next_step"].startswith("Bring appliance appliance-1 back online")


def test_r7_2_a_failed_last_backup_names_its_error(cast):
    alarm = alarm_for(cast, backups=[{"finished_at": DUE + timedelta(hours=1), "status": "failed", "error": "disk full"}])
    assert (alarm.details["root_cause"], alarm.details["root_cause_label"]) == ("last_backup_failed", "Last backup failed: disk full")


def test_r7_2_no_backup_since_the_start_is_a_scheduled_backup_that_did_not_run(cast):
    alarm = alarm_for(cast, backups=[{"finished_at": DUE - timedelta(hours=2)}])
    assert alarm.details["root_cause"] == "scheduled_backup_did_not_run"
    assert "Check that the schedule on appliance appliance-1 is enabled" in alarm.details["next_step"]


def test_r7_2_a_backup_running_past_the_threshold(cast):
    alarm = alarm_for(cast, backups=[{"finished_at": None, "status": "running", "started_at": DUE}])
    assert alarm.details["root_cause"] == "backup_running"
    assert alarm.details["root_cause_label"] == "Backup still running past the threshold"


def test_r7_2_a_backup_that_finished_only_after_now_was_running_at_now(cast):
    alarm = alarm_for(cast, backups=[{"finished_at": NOW + timedelta(hours=1), "started_at": DUE}])
    assert alarm.details["root_cause"] == "backup_running"


def test_r7_2_hot_copy_causes_no_target_then_failed_then_did_not_run(cast):
    set_global(cast.account_a)
    asset = make_asset(make_appliance(cast.account_a, cast.org_a1), hot_copy=True)
    older = make_backup(asset, NOW - timedelta(days=3))
    make_backup(asset, NOW - timedelta(days=2))
    evaluate(cast.account_a, NOW)
    [alarm] = open_alarms(cast.account_a, kind="hot_copy_alarm")
    assert alarm.details["root_cause"] == "no_hot_copy_target"
    make_copy(older, NOW - timedelta(days=2, hours=-1), status="failed", error="quota")
    evaluate(cast.account_a, NOW + timedelta(minutes=5))
    alarm.refresh_from_db()
    assert alarm.details["root_cause_label"] == "Last hot copy failed: quota"
    make_copy(older, NOW - timedelta(days=2, hours=-2))
    evaluate(cast.account_a, NOW + timedelta(minutes=10))
    alarm.refresh_from_db()
    assert (alarm.state, alarm.details["root_cause"]) == ("open", "hot_copy_did_not_run")


def test_r7_the_alert_page_shows_the_checklist_with_the_failing_check_marked_and_the_next_step(cast):
    alarm = alarm_for(cast, backups=[{"finished_at": DUE + timedelta(hours=1), "status": "failed", "error": "disk full"}])
    client = Client()
    client.force_login(cast.monitor_a)
    page = client.get(f"/alerts/{alarm.pk}/").content.decode()
    checklist = page[page.index('data-testid="alarm-checklist"'):]
    assert 'data-testid="alarm-threshold">24 h — global' in checklist
    failing = checklist[checklist.index('data-testid="check-last_good_backup"'):]
    assert failing.index('data-testid="failing-check"') < failing.index("</li>")
    assert 'data-testid="root-cause">Last backup failed: disk full' in checklist
    assert "Next step: Read the error of the failed backup on appliance appliance-1" in checklist


def test_r7_the_api_detail_carries_the_checks_root_cause_and_next_step(cast):
    alarm = alarm_for(cast, backups=[{"finished_at": DUE - timedelta(hours=2)}])
    details = api_client(cast.monitor_a).get(f"/api/v1/alerts/{alarm.pk}/").json()["details"]
    assert [c["key"] for c in details["checks"]] == CHECKS
    assert details["root_cause"] == "scheduled_backup_did_not_run" and details["next_step"]
    assert details["threshold"] == "24 h — global" and details["threshold_source"] == "global"


def test_r7_1_assets_on_different_schedules_in_one_evaluation_each_show_their_own(cast):
    """An evaluation works out a schedule's checklist line once for every asset on it (in one zone):
    assets on other schedules, or in another zone, keep lines of their own."""
    set_global(cast.account_a)
    utc = make_appliance(cast.account_a, cast.org_a1)
    berlin = make_appliance(cast.account_a, cast.org_a1, "appliance-2", timezone="Europe/Berlin")
    make_asset(utc, "daily-1")
    make_asset(utc, "daily-2")
    make_asset(utc, "six-hourly", rrule="FREQ=HOURLY;INTERVAL=6")
    make_asset(berlin, "daily-berlin")
    evaluate(cast.account_a, NOW)
    lines = {alarm.details["asset"]: next(c for c in alarm.details["checks"] if c["key"] == "backup_schedule")
             for alarm in open_alarms(cast.account_a)}
    assert lines["daily-1"] == lines["daily-2"]
    assert lines["daily-1"]["value"].startswith("FREQ=DAILY;BYHOUR=22;BYMINUTE=0 — last start 2026-11-01 22:00 UTC")
    assert lines["six-hourly"]["value"].startswith("FREQ=HOURLY;INTERVAL=6 — last start")
    assert lines["six-hourly"]["value"] != lines["daily-1"]["value"]
    assert "Europe/Berlin" in lines["daily-berlin"]["value"] and lines["daily-berlin"]["value"] != lines["daily-1"]["value"]
