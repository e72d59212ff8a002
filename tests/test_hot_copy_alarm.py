"""Hot backup copy alarm (R6): the newest good backup B with E + N ≤ now needs a good hot copy
of B or of a later backup; cold copies never count."""

from datetime import timedelta

from alerts.evaluation import evaluate
from tests.conftest import NOW, make_appliance, make_asset
from tests.test_backup_alarm import make_backup, make_copy, open_alarms, set_global

HOURS = 24


def hot_asset(cast, **fields):
    appliance = make_appliance(cast.account_a, cast.org_a1)
    return make_asset(appliance, hot_copy=True, **fields)


def alarms(cast):
    return open_alarms(cast.account_a, kind="hot_copy_alarm")


def test_r6_1_a_good_backup_without_a_hot_copy_after_n_hours_alarms(cast):
    set_global(cast.account_a, hot_copy_hours=HOURS)
    asset = hot_asset(cast)
    backup = make_backup(asset, NOW - timedelta(hours=HOURS))
    evaluate(cast.account_a, NOW)
    [alarm] = alarms(cast)
    assert (alarm.asset_id, alarm.subject) == (asset.pk, f"asset:{asset.pk}")
    assert alarm.details["not_copied_since"] == backup.finished_at.isoformat()
    assert alarm.details["threshold"] == "24 h — global"
    assert alarm.details["root_cause"] == "no_hot_copy_target"


def test_r6_1_a_backup_younger_than_n_hours_does_not_alarm_yet(cast):
    set_global(cast.account_a, hot_copy_hours=HOURS)
    make_backup(hot_asset(cast), NOW - timedelta(hours=HOURS - 1))
    evaluate(cast.account_a, NOW)
    assert alarms(cast) == []


def test_r6_1_an_asset_whose_backups_are_not_hot_copied_never_alarms(cast):
    set_global(cast.account_a, hot_copy_hours=HOURS)
    make_backup(make_asset(make_appliance(cast.account_a, cast.org_a1)), NOW - timedelta(days=3))
    evaluate(cast.account_a, NOW)
    assert alarms(cast) == []


def test_r6_1_failed_backups_need_no_hot_copy(cast):
    set_global(cast.account_a, hot_copy_hours=HOURS)
    asset = hot_asset(cast)
    make_copy(make_backup(asset, NOW - timedelta(days=3)), NOW - timedelta(days=3) + timedelta(hours=1))
    make_backup(asset, NOW - timedelta(days=2), status="failed")
    evaluate(cast.account_a, NOW)
    assert alarms(cast) == []


def test_r6_2_a_cold_copy_does_not_satisfy_the_alarm(cast):
    set_global(cast.account_a, hot_copy_hours=HOURS)
    backup = make_backup(hot_asset(cast), NOW - timedelta(days=2))
    make_copy(backup, NOW - timedelta(days=2) + timedelta(hours=1), target="cold")
    evaluate(cast.account_a, NOW)
    assert len(alarms(cast)) == 1


def test_r6_2_a_hot_copy_of_b_resolves_the_alarm_even_when_it_finishes_late(cast):
    set_global(cast.account_a, hot_copy_hours=HOURS)
    backup = make_backup(hot_asset(cast), NOW - timedelta(days=2))
    evaluate(cast.account_a, NOW)
    [alarm] = alarms(cast)
    make_copy(backup, NOW + timedelta(minutes=30))
    evaluate(cast.account_a, NOW + timedelta(minutes=5))
    assert alarms(cast) == [alarm]  # the copy had not finished then (R14.1)
    evaluate(cast.account_a, NOW + timedelta(hours=1))
    alarm.refresh_from_db()
    assert (alarm.state, alarm.resolved_at) == ("resolved", NOW + timedelta(hours=1))


def test_r6_1_a_hot_copy_of_a_later_backup_satisfies_it(cast):
    set_global(cast.account_a, hot_copy_hours=HOURS)
    asset = hot_asset(cast)
    make_backup(asset, NOW - timedelta(days=3))  # never copied
    later = make_backup(asset, NOW - timedelta(hours=2))
    make_copy(later, NOW - timedelta(hours=1))
    evaluate(cast.account_a, NOW)
    assert alarms(cast) == []


def test_r6_1_a_hot_copy_of_an_older_backup_does_not(cast):
    set_global(cast.account_a, hot_copy_hours=HOURS)
    asset = hot_asset(cast)
    older = make_backup(asset, NOW - timedelta(days=3))
    make_backup(asset, NOW - timedelta(days=2))
    make_copy(older, NOW - timedelta(hours=1))  # finished last, but of an older backup
    evaluate(cast.account_a, NOW)
    assert len(alarms(cast)) == 1


def test_r6_1_a_failed_hot_copy_is_the_root_cause_with_its_error(cast):
    set_global(cast.account_a, hot_copy_hours=HOURS)
    backup = make_backup(hot_asset(cast), NOW - timedelta(days=2))
    make_copy(backup, NOW - timedelta(days=1), status="failed", error="target unreachable")
    evaluate(cast.account_a, NOW)
    [alarm] = alarms(cast)
    assert alarm.details["root_cause"] == "last_hot_copy_failed"
    assert alarm.details["root_cause_label"] == "Last hot copy failed: target unreachable"
    assert alarm.details["failing_check"] == "last_good_hot_copy"


def test_r6_2_switching_replication_offsite_off_resolves_and_r4_1_no_global_no_alarm(cast):
    threshold = set_global(cast.account_a, hot_copy_hours=HOURS)
    make_backup(hot_asset(cast), NOW - timedelta(days=2))
    evaluate(cast.account_a, NOW)
    assert len(alarms(cast)) == 1
    threshold.hot_copy_enabled = False
    threshold.save()
    evaluate(cast.account_a, NOW + timedelta(minutes=5))
    assert alarms(cast) == []
    threshold.delete()
    evaluate(cast.account_a, NOW + timedelta(minutes=10))
    assert alarms(cast) == []


def test_r6_1_the_hot_copy_alarm_does_not_need_a_backup_schedule(cast):
    set_global(cast.account_a, hot_copy_hours=HOURS)
    make_backup(hot_asset(cast, rrule=None), NOW - timedelta(days=2))
    evaluate(cast.account_a, NOW)
    [alarm] = alarms(cast)
    checks = {c["key"]: c for c in alarm.details["checks"]}
    assert checks["backup_schedule"]["ok"] is False and checks["backup_schedule"]["value"] == "none"
