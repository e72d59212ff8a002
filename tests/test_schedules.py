"""Backup schedules as RFC 5545 recurrences in the appliance's time zone (R5.1, daylight saving)."""

from datetime import UTC, datetime, timedelta

from alerts.evaluation import evaluate
from inventory.schedules import Recurrence, RecurrenceCache
from tests.conftest import make_appliance, make_asset
from tests.test_backup_alarm import make_backup, open_alarms, set_global


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_a_daily_start_keeps_its_wall_clock_time_across_the_autumn_change():
    # Europe/Paris leaves summer time on 2026-10-25: 22:00 is 20:00 UTC before, 21:00 UTC after.
    paris = Recurrence("FREQ=DAILY;BYHOUR=22;BYMINUTE=0", "2026-10-01T22:00:00", "Europe/Paris")
    assert paris.latest_start(utc(2026, 10, 24, 23)) == utc(2026, 10, 24, 20)
    assert paris.latest_start(utc(2026, 10, 25, 23)) == utc(2026, 10, 25, 21)
    assert paris.next_start(utc(2026, 10, 24, 20)) == utc(2026, 10, 25, 21)


def test_a_start_in_the_spring_gap_runs_after_the_gap_and_is_not_skipped():
    # New York skips 02:00–03:00 on 2026-03-08: the 02:30 start happens at 03:30 EDT (07:30 UTC).
    new_york = Recurrence("FREQ=DAILY;BYHOUR=2;BYMINUTE=30", "2026-03-01T02:30:00", "America/New_York")
    assert new_york.latest_start(utc(2026, 3, 8, 12)) == utc(2026, 3, 8, 7, 30)
    assert new_york.latest_start(utc(2026, 3, 7, 12)) == utc(2026, 3, 7, 7, 30)  # 02:30 EST
    assert new_york.latest_start(utc(2026, 3, 9, 12)) == utc(2026, 3, 9, 6, 30)  # 02:30 EDT
    assert new_york.count_starts(utc(2026, 3, 6, 12), utc(2026, 3, 10, 12)) == 4


def test_a_start_in_the_repeated_autumn_hour_happens_once_at_its_first_occurrence():
    # New York repeats 01:00–02:00 on 2026-11-01: the 01:30 start is 05:30 UTC (EDT), once.
    new_york = Recurrence("FREQ=DAILY;BYHOUR=1;BYMINUTE=30", "2026-10-01T01:30:00", "America/New_York")
    assert new_york.latest_start(utc(2026, 11, 1, 6, 45)) == utc(2026, 11, 1, 5, 30)
    assert new_york.count_starts(utc(2026, 10, 31, 12), utc(2026, 11, 1, 12)) == 1


def test_r5_1_the_due_start_is_the_latest_with_start_plus_n_at_or_before_now():
    daily = Recurrence("FREQ=DAILY;BYHOUR=22;BYMINUTE=0", "2026-10-01T22:00:00", "UTC")
    assert daily.latest_due_start(utc(2026, 11, 2, 12), 24) == utc(2026, 10, 31, 22)
    assert daily.latest_due_start(utc(2026, 11, 2, 22), 24) == utc(2026, 11, 1, 22)  # S + N == now counts
    assert daily.latest_due_start(utc(2026, 10, 2, 21), 24) is None  # nothing due before the first start + N


def test_rrule_features_weekly_days_interval_and_count_are_honoured():
    weekdays = Recurrence("FREQ=WEEKLY;BYDAY=MO,WE,FR;BYHOUR=1;BYMINUTE=0", "2026-11-02T01:00:00", "UTC")
    assert weekdays.next_start(utc(2026, 11, 2, 2)) == utc(2026, 11, 4, 1)
    fortnightly = Recurrence("RRULE:FREQ=WEEKLY;INTERVAL=2;BYHOUR=3", "2026-11-01T03:00:00", "UTC")
    assert fortnightly.next_start(utc(2026, 11, 2)) == utc(2026, 11, 15, 3)
    three_times = Recurrence("FREQ=DAILY;COUNT=3;BYHOUR=3", "2026-11-01T03:00:00", "UTC")
    assert three_times.next_start(utc(2026, 11, 3, 4)) is None
    assert three_times.latest_start(utc(2027, 1, 1)) == utc(2026, 11, 3, 3)


def test_one_recurrence_is_shared_by_every_asset_with_the_same_schedule():
    cache = RecurrenceCache()
    first = cache.get("FREQ=DAILY;BYHOUR=22", "2026-10-01T22:00:00", "Europe/Paris")
    assert cache.get("FREQ=DAILY;BYHOUR=22", "2026-10-01T22:00:00", "Europe/Paris") is first
    assert cache.get("FREQ=DAILY;BYHOUR=22", "2026-10-01T22:00:00", "UTC") is not first


def test_r5_1_a_backup_alarm_follows_the_appliances_clock_across_a_dst_change(cast):
    set_global(cast.account_a, backups_hours=4)
    appliance = make_appliance(cast.account_a, cast.org_a1, timezone="Europe/Paris")
    asset = make_asset(appliance)  # daily 22:00 Paris time
    # After the change 22:00 Paris is 21:00 UTC: a backup ending 20:30 UTC (21:30 Paris) ran
    # before the start, so the start of 10-25 is missed; one ending 21:30 UTC satisfies it.
    make_backup(asset, utc(2026, 10, 25, 20, 30))
    at = utc(2026, 10, 26, 1, 30)
    evaluate(cast.account_a, at)
    [alarm] = open_alarms(cast.account_a)
    assert alarm.details["due_start"] == utc(2026, 10, 25, 21).isoformat()
    make_backup(asset, utc(2026, 10, 25, 21, 30))
    evaluate(cast.account_a, at + timedelta(minutes=5))
    assert open_alarms(cast.account_a) == []
