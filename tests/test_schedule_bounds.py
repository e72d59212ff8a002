"""Schedules cannot exhaust the workers (R4.7): a recurrence more frequent than every
15 minutes, or starting more than 10 years back, is refused at the door (API, appliance
sync), and evaluating any stored schedule costs a bounded number of rrule steps."""

import logging
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from alerts.evaluation import evaluate
from fakes.unitrends import FakeAppliance, UnitrendsFake, unitrends_integration
from integrations.models import Integration
from integrations.unitrends.client import UnitrendsClient
from integrations.unitrends.poller import sync
from inventory.models import Appliance, Asset, BackupSchedule
from inventory.schedules import (
    CHECK_BUDGET,
    MONTH_STEPS,
    Recurrence,
    RecurrenceCache,
    ScheduleError,
    TooCostly,
    check,
)
from tests.conftest import NOW, api_client, make_appliance, make_asset
from tests.test_backup_alarm import make_backup, open_alarms, set_global

TODAY = datetime(2026, 11, 2, 12, 0)
TOO_OFTEN = [
    "FREQ=SECONDLY",
    "FREQ=MINUTELY",
    "FREQ=MINUTELY;INTERVAL=14",
    "FREQ=HOURLY;BYMINUTE=0,5",  # a BYMINUTE list: two starts five minutes apart every hour
    "FREQ=DAILY;BYHOUR=22;BYMINUTE=0,10,20",
    "FREQ=DAILY;BYHOUR=22;BYMINUTE=0;BYSECOND=0,30",  # a BYSECOND list
    "FREQ=DAILY;BYHOUR=23,0;BYMINUTE=5,55",  # 23:55 and 00:05 the next day: ten minutes apart
    "FREQ=SECONDLY;INTERVAL=60;BYMINUTE=0,14",
]
ALLOWED = [
    "FREQ=MINUTELY;INTERVAL=15",
    "FREQ=MINUTELY;INTERVAL=5;BYMINUTE=0",  # a fine grid filtered to once an hour
    "FREQ=HOURLY;BYMINUTE=0,30",
    "FREQ=DAILY;BYHOUR=22;BYMINUTE=0",
    "FREQ=WEEKLY;BYDAY=SU;BYHOUR=23",
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",  # sparse is fine
]


@pytest.mark.parametrize("rrule", TOO_OFTEN)
def test_r4_7_a_recurrence_more_frequent_than_every_15_minutes_is_refused(rrule):
    with pytest.raises(ScheduleError) as refused:
        check(rrule, datetime(2026, 11, 1, 22, 0), TODAY)
    assert refused.value.field == "rrule" and "every 15 minutes" in str(refused.value)


@pytest.mark.parametrize("rrule", ALLOWED)
def test_r4_7_a_recurrence_at_most_every_15_minutes_is_taken(rrule):
    assert check(f"RRULE:{rrule}", datetime(2026, 11, 1, 22, 0), TODAY) == rrule


def test_r4_7_a_first_start_more_than_10_years_back_is_refused_naming_dtstart():
    with pytest.raises(ScheduleError) as refused:
        check("FREQ=DAILY", datetime(1, 1, 1), TODAY)
    assert refused.value.field == "dtstart"
    assert check("FREQ=DAILY", datetime(2016, 11, 3), TODAY) == "FREQ=DAILY"  # just within


def test_r4_7_a_recurrence_that_never_starts_is_refused_within_the_budget():
    with pytest.raises(ScheduleError) as refused:
        check("FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30", datetime(2026, 1, 1), TODAY)
    assert refused.value.field == "rrule" and "never starts" in str(refused.value)


# --- the API ---------------------------------------------------------------------

def post_asset(cast, **fields):
    appliance = Appliance.objects.filter(external_id="ueb").first() or make_appliance(cast.account_a, cast.org_a1, "ueb")
    payload = {"appliance": appliance.pk, "name": "fs", "type": "windows", "external_id": "fs", **fields}
    return api_client(cast.superuser_a).post("/api/v1/assets/", payload, format="json")


def test_r4_7_the_api_refuses_a_schedule_every_second_naming_the_field_and_creates_nothing(cast):
    answer = post_asset(cast, backup_schedule={"rrule": "FREQ=SECONDLY", "dtstart": "2026-11-01T22:00:00"})
    assert answer.status_code == 400
    assert "every 15 minutes" in answer.json()["errors"]["backup_schedule"]["rrule"][0]
    assert not Asset.objects.exists() and not BackupSchedule.objects.exists()


def test_r4_7_the_api_refuses_a_byminute_list_hidden_in_the_schedule_list(cast):
    answer = post_asset(cast, backup_schedules=[
        {"name": "Daily", "rrule": "FREQ=DAILY;BYHOUR=22", "dtstart": "2026-11-01T22:00:00"},
        {"name": "Hourly", "rrule": "FREQ=HOURLY;BYMINUTE=0,5", "dtstart": "2026-11-01T22:00:00"},
    ])
    assert answer.status_code == 400
    errors = answer.json()["errors"]["backup_schedules"]
    assert list(errors) == ["1"] and "every 15 minutes" in errors["1"]["rrule"][0]  # the second one, by its field
    assert not Asset.objects.exists()


def test_r4_7_the_api_refuses_a_first_start_in_year_one_naming_dtstart(cast):
    answer = post_asset(cast, backup_schedule={"rrule": "FREQ=DAILY", "dtstart": "0001-01-01T22:00:00"})
    assert answer.status_code == 400 and "dtstart" in answer.json()["errors"]["backup_schedule"]


def test_r4_7_an_asset_takes_at_most_20_schedules(cast):
    daily = {"rrule": "FREQ=DAILY;BYHOUR=22", "dtstart": "2026-11-01T22:00:00"}
    answer = post_asset(cast, backup_schedules=[daily] * 21)
    assert answer.status_code == 400 and "backup_schedules" in answer.json()["errors"]
    assert post_asset(cast, backup_schedules=[daily] * 20, external_id="twenty").status_code == 201


def test_r4_7_a_refused_patch_leaves_the_schedules_as_they_were(cast):
    created = post_asset(cast, backup_schedule={"rrule": "FREQ=DAILY;BYHOUR=22", "dtstart": "2026-11-01T22:00:00"}).json()
    answer = api_client(cast.superuser_a).patch(
        f"/api/v1/assets/{created['id']}/",
        {"backup_schedules": [{"rrule": "FREQ=MINUTELY;INTERVAL=5", "dtstart": "2026-11-01T22:00:00"}]}, format="json")
    assert answer.status_code == 400
    assert list(BackupSchedule.objects.values_list("rrule", flat=True)) == ["FREQ=DAILY;BYHOUR=22"]


# --- bounded evaluation of what is already stored ------------------------------------

def test_r4_7_a_daily_schedule_from_year_one_evaluates_from_a_window_not_from_its_first_start():
    """Written straight into the database: dateutil alone would walk 740,000 days."""
    old = Recurrence("FREQ=DAILY;BYHOUR=22;BYMINUTE=0", "0001-01-01T22:00:00", "Europe/Paris")
    assert old.latest_due_start(NOW, 24) == datetime(2026, 10, 31, 21, 0, tzinfo=UTC)
    assert old.next_start(NOW) == datetime(2026, 11, 2, 21, 0, tzinfo=UTC)
    assert old.count_starts(NOW - timedelta(days=3), NOW) == 3
    assert old.steps.spent < 50 * MONTH_STEPS


@pytest.mark.parametrize("rrule", [
    "FREQ=SECONDLY",  # 183,000 starts in the two days a latest start is first looked for
    "FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30",  # never starts: dateutil would scan to the year 9999
    "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
])
def test_r4_7_a_pathological_stored_schedule_is_unreadable_within_a_bounded_number_of_steps(rrule):
    recurrence = Recurrence(rrule, "0001-01-01T00:00:00", "UTC")
    with pytest.raises(ScheduleError):
        recurrence.latest_due_start(NOW, 24)
    assert recurrence.steps.spent <= CHECK_BUDGET
    for question in (lambda: recurrence.next_start(NOW), lambda: recurrence.count_starts(None, NOW)):
        with pytest.raises(ScheduleError):
            question()
    assert recurrence.steps.spent <= CHECK_BUDGET  # refused once, for every later question


def test_r4_7_no_question_spends_more_than_the_budget_of_its_schedule():
    busy = Recurrence("FREQ=MINUTELY;INTERVAL=15", "2020-01-01T00:00:00", "UTC", budget=3_000)
    with pytest.raises(TooCostly):
        busy.count_starts(None, NOW)  # 92 days of starts would be 8,832
    assert busy.steps.spent == 3_000
    with pytest.raises(TooCostly):
        busy.latest_due_start(NOW, 48)
    assert busy.steps.spent == 3_000


def test_r4_7_missed_starts_are_counted_over_a_bounded_window():
    """R5.3 for an asset that never had a good backup: at most 92 days of a 15-minute schedule."""
    quarter_hourly = Recurrence("FREQ=MINUTELY;INTERVAL=15", "2020-01-01T00:00:00", "UTC")
    assert quarter_hourly.count_starts(None, NOW) == 92 * 96
    assert quarter_hourly.steps.spent <= CHECK_BUDGET + 92 * 96 + 2 * 96 + 8 * MONTH_STEPS


def test_r4_7_r5_1_a_pathological_stored_schedule_does_not_stop_the_evaluation_of_the_others(cast):
    set_global(cast.account_a)
    appliance = make_appliance(cast.account_a, cast.org_a1)
    poisoned = make_asset(appliance, name="poisoned", rrule=None)
    for rrule in ("FREQ=SECONDLY", "FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30"):
        BackupSchedule.objects.create(account=cast.account_a, asset=poisoned, rrule=rrule, dtstart="0001-01-01T00:00:00")
    late = make_asset(appliance, name="late")
    make_backup(late, NOW - timedelta(days=3))
    cache = RecurrenceCache()
    for rrule in ("FREQ=SECONDLY", "FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30"):
        assert cache.latest_due_over([(rrule, "0001-01-01T00:00:00")], "UTC", NOW, 24) is None
        assert cache.get(rrule, "0001-01-01T00:00:00", "UTC").steps.spent <= CHECK_BUDGET

    evaluate(cast.account_a, NOW)
    assert [a.asset.name for a in open_alarms(cast.account_a)] == ["late"]


# --- the appliance sync ----------------------------------------------------------------

@pytest.fixture
def appliance_with_a_runaway_job_order():
    appliance = FakeAppliance("ueb-01")
    appliance.add_asset(101, "fs-01")
    appliance.add_schedule(1, "Nightly", [101], "FREQ=DAILY;BYHOUR=22;BYMINUTE=0")
    appliance.add_schedule(2, "Every five minutes", [101], "FREQ=MINUTELY;INTERVAL=5")
    appliance.add_schedule(3, "Ancient", [101], "FREQ=WEEKLY;BYDAY=SU", dtstart="19990101T000000")
    server = UnitrendsFake({"": appliance}).start()
    yield server
    server.stop()


def test_r4_7_the_sync_skips_a_refused_job_order_with_a_warning_and_keeps_the_rest(
    cast, appliance_with_a_runaway_job_order, caplog,
):
    integration = unitrends_integration(cast.account_a, cast.org_a1, appliance_with_a_runaway_job_order)
    with caplog.at_level(logging.WARNING, logger="integrations.sync"):
        summary = sync(integration, NOW, UnitrendsClient.for_integration(integration, retries=0))
    assert list(BackupSchedule.objects.values_list("name", flat=True)) == ["Nightly"]
    assert "synced" in summary and "“Every five minutes” was skipped" in summary
    assert any("Every five minutes" in r.getMessage() and "15 minutes" in r.getMessage() for r in caplog.records)
    appliance = Appliance.objects.get(account=cast.account_a)
    assert appliance.last_sync_error == ""  # the sync itself did not fail
    shown = api_client(cast.monitor_a).get(f"/api/v1/appliances/{appliance.pk}/").json()["last_sync_warning"]
    assert "Job order “Every five minutes” was skipped" in shown and "Job order “Ancient” was skipped" in shown
    assert "10 years" in shown
    browser = Client()
    browser.force_login(cast.superuser_a)
    page = browser.get("/settings/integrations/").content.decode()
    assert "Job order “Every five minutes” was skipped: This schedule starts more often than every 15 minutes" in page

    appliance_with_a_runaway_job_order.appliance.joborders = [
        o for o in appliance_with_a_runaway_job_order.appliance.joborders if o["id"] == 1]
    sync(integration, NOW + timedelta(minutes=5), UnitrendsClient.for_integration(integration, retries=0))
    assert Appliance.objects.get(pk=appliance.pk).last_sync_warning == ""  # fixed on the appliance: the warning goes


def test_r4_7_the_integrations_page_shows_the_warning_when_the_appliance_option_was_sent_as_text(cast):
    appliance = make_appliance(cast.account_a, cast.org_a1, "linked", last_sync_warning="Job order “Fast” was skipped.")
    Integration.objects.create(
        account=cast.account_a, kind="unitrends", name="Linked", base_url="https://appliance.example",
        credentials={"username": "root", "password": "x"}, options={"appliance": str(appliance.pk)},
    )
    browser = Client()
    browser.force_login(cast.superuser_a)
    assert "Job order “Fast” was skipped." in browser.get("/settings/integrations/").content.decode()
