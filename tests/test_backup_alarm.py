"""Backup alarm (R5) with thresholds (R4.1, R4.4, R4.6), replayable at any `now` (R14.1)."""

from datetime import timedelta
from itertools import count

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts.evaluation import evaluate
from alerts.models import Alert
from inventory.models import Backup, BackupCopy, BackupSchedule
from tests.conftest import NOW, make_appliance, make_asset
from thresholds.models import GlobalThreshold

# NOW is 2026-11-02 12:00 UTC; the default schedule starts daily at 22:00 UTC, so
# with 24 h the start that is due is 2026-10-31 22:00 (the next one, 11-01 22:00, is
# due at 11-02 22:00).
DUE = NOW.replace(day=1, hour=22) - timedelta(days=1)
_ids = count(1)


def set_global(account, **fields):
    values = {"backups_hours": 24, "hot_copy_hours": 24, **fields}
    return GlobalThreshold.objects.update_or_create(account=account, defaults=values)[0]


def make_backup(asset, finished_at, status="success", started_at=None, error=""):
    started_at = started_at or (finished_at or NOW) - timedelta(hours=1)
    return Backup.objects.create(
        account=asset.account, asset=asset, external_id=f"b{next(_ids)}", status=status,
        started_at=started_at, finished_at=finished_at, error=error,
    )


def make_copy(backup, finished_at, target="hot", status="success", error=""):
    return BackupCopy.objects.create(
        account=backup.account, asset=backup.asset, backup=backup, external_id=f"c{next(_ids)}",
        target=target, status=status, started_at=finished_at - timedelta(minutes=30),
        finished_at=finished_at, error=error,
    )


def open_alarms(account, kind="backup_alarm"):
    return list(Alert.objects.filter(account=account, kind=kind, state="open"))


def server(cast, rrule="FREQ=DAILY;BYHOUR=22;BYMINUTE=0", **appliance_fields):
    appliance = make_appliance(cast.account_a, cast.org_a1, **appliance_fields)
    return make_asset(appliance, rrule=rrule)


# --- R4.1 / R4.4 -----------------------------------------------------------

def test_r4_1_without_a_global_threshold_no_asset_alarms(cast):
    server(cast)
    evaluate(cast.account_a, NOW)
    assert open_alarms(cast.account_a) == []


def test_r4_4_an_asset_without_a_schedule_gets_no_backup_alarm(cast):
    set_global(cast.account_a)
    make_asset(make_appliance(cast.account_a, cast.org_a1), rrule=None)
    evaluate(cast.account_a, NOW)
    assert open_alarms(cast.account_a) == []


# --- R5.1 ------------------------------------------------------------------

def test_r5_1_no_good_backup_since_the_due_start_alarms(cast):
    set_global(cast.account_a)
    asset = server(cast)
    make_backup(asset, DUE - timedelta(minutes=1))
    evaluate(cast.account_a, NOW)
    [alarm] = open_alarms(cast.account_a)
    assert (alarm.asset_id, alarm.subject, alarm.organization_id) == (asset.pk, f"asset:{asset.pk}", cast.org_a1.pk)
    assert alarm.details["due_start"] == DUE.isoformat()
    assert alarm.details["threshold"] == "24 h — global"
    assert alarm.group_key == f"{cast.org_a1.pk}:backup_alarm"
    assert alarm.group_label == "Acme — Backup alarm"
    assert set(alarm.links) == {"organization", "asset"}


def test_r5_1_a_good_backup_finished_at_or_after_the_due_start_keeps_it_quiet(cast):
    set_global(cast.account_a)
    make_backup(server(cast), DUE)
    evaluate(cast.account_a, NOW)
    assert open_alarms(cast.account_a) == []


def test_r5_1_a_start_not_yet_due_does_not_alarm(cast):
    set_global(cast.account_a)
    # The 11-01 22:00 start has no backup, but it is due only at 11-02 22:00.
    make_backup(server(cast), DUE + timedelta(hours=1))
    evaluate(cast.account_a, NOW)
    assert open_alarms(cast.account_a) == []
    evaluate(cast.account_a, DUE + timedelta(days=2))
    assert len(open_alarms(cast.account_a)) == 1


def test_r5_1_a_warning_backup_is_good(cast):
    set_global(cast.account_a)
    make_backup(server(cast), DUE + timedelta(hours=1), status="warning")
    evaluate(cast.account_a, NOW)
    assert open_alarms(cast.account_a) == []


def test_r5_1_failed_and_cancelled_backups_are_not_good(cast):
    set_global(cast.account_a)
    asset = server(cast)
    make_backup(asset, DUE + timedelta(hours=1), status="cancelled")
    make_backup(asset, DUE + timedelta(hours=2), status="failed", error="VSS snapshot failed")
    evaluate(cast.account_a, NOW)
    [alarm] = open_alarms(cast.account_a)
    assert alarm.details["root_cause"] == "last_backup_failed"
    assert alarm.details["root_cause_label"] == "Last backup failed: VSS snapshot failed"


def test_r5_1_a_weekly_schedule_with_a_4_hour_threshold_does_not_alarm_between_weekly_starts(cast):
    set_global(cast.account_a, backups_hours=4)
    asset = server(cast, rrule="FREQ=WEEKLY;BYDAY=SU;BYHOUR=22;BYMINUTE=0")
    sunday = NOW.replace(day=1, hour=22)  # 2026-11-01 is a Sunday
    make_backup(asset, sunday + timedelta(hours=2))
    for hours in (12, 36, 72, 150, 168 + 3):  # Monday … next Sunday before 22:00 + 4 h
        evaluate(cast.account_a, sunday + timedelta(hours=hours))
        assert open_alarms(cast.account_a) == [], hours
    evaluate(cast.account_a, sunday + timedelta(days=7, hours=4))
    assert len(open_alarms(cast.account_a)) == 1


# --- R5.2 ------------------------------------------------------------------

def test_r5_2_a_backup_that_finishes_after_the_threshold_still_resolves_the_alarm(cast):
    set_global(cast.account_a)
    asset = server(cast)
    evaluate(cast.account_a, NOW)
    [alarm] = open_alarms(cast.account_a)
    make_backup(asset, NOW + timedelta(hours=3), started_at=DUE)  # ran 17 h, ended past S + N
    evaluate(cast.account_a, NOW + timedelta(hours=4))
    alarm.refresh_from_db()
    assert (alarm.state, alarm.resolved_at) == ("resolved", NOW + timedelta(hours=4))


def test_r5_2_r4_6_switching_backups_off_or_raising_the_hours_resolves_at_the_next_evaluation(cast):
    threshold = set_global(cast.account_a)
    make_backup(server(cast), DUE - timedelta(hours=2))  # ended 10-31 20:00
    evaluate(cast.account_a, NOW)
    assert len(open_alarms(cast.account_a)) == 1
    threshold.backups_enabled = False
    threshold.save()
    evaluate(cast.account_a, NOW + timedelta(minutes=5))
    assert open_alarms(cast.account_a) == []
    threshold.backups_enabled, threshold.backups_hours = True, 48  # due start: 10-30 22:00
    threshold.save()
    evaluate(cast.account_a, NOW + timedelta(minutes=10))
    assert open_alarms(cast.account_a) == []


def test_r5_2_removing_the_schedule_or_the_asset_resolves(cast):
    set_global(cast.account_a)
    first = server(cast)
    second = make_asset(first.appliance, name="server-2")
    evaluate(cast.account_a, NOW)
    assert len(open_alarms(cast.account_a)) == 2
    BackupSchedule.objects.filter(asset=first).delete()
    second.delete()
    evaluate(cast.account_a, NOW + timedelta(minutes=5))
    assert open_alarms(cast.account_a) == []
    assert Alert.objects.filter(state="resolved").count() == 2


# --- R5.3 ------------------------------------------------------------------

def test_r5_3_further_missed_starts_keep_the_same_alert_and_count_them(cast):
    set_global(cast.account_a)
    make_backup(server(cast), DUE - timedelta(hours=1))
    evaluate(cast.account_a, NOW)
    [alarm] = open_alarms(cast.account_a)
    assert alarm.details["missed_starts"] == 1
    evaluate(cast.account_a, NOW + timedelta(days=2))
    [again] = open_alarms(cast.account_a)
    assert again.pk == alarm.pk
    assert again.details["missed_starts"] == 3
    assert list(again.events.values_list("type", flat=True)) == ["raised"]


def test_r14_2_an_evaluation_with_nothing_changed_writes_no_rows(cast):
    set_global(cast.account_a)
    make_backup(server(cast), DUE - timedelta(hours=1))
    evaluate(cast.account_a, NOW)
    with CaptureQueriesContext(connection) as ctx:
        evaluate(cast.account_a, NOW)
    writes = [q["sql"] for q in ctx.captured_queries
              if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE") and "alerts_evaluation" not in q["sql"]]
    assert writes == []


def _queries_for(cast, assets, django_assert_max_num_queries):
    from alerts.rules import backup_alarm, hot_copy_alarm
    appliance = make_appliance(cast.account_a, cast.org_a2, name=f"fleet-{assets}")
    for n in range(assets):
        asset = make_asset(appliance, name=f"vm-{assets}-{n}", hot_copy=True)
        make_copy(make_backup(asset, DUE - timedelta(hours=30)), DUE - timedelta(hours=29), target="cold")
    with django_assert_max_num_queries(100) as ctx:
        produced = list(backup_alarm.conditions(cast.account_a, NOW)) + list(hot_copy_alarm.conditions(cast.account_a, NOW))
    return len(ctx.captured_queries), len(produced)


def test_the_rules_issue_as_many_queries_for_50_assets_as_for_5(cast, django_assert_max_num_queries):
    set_global(cast.account_a)
    small = _queries_for(cast, 5, django_assert_max_num_queries)
    large = _queries_for(cast, 50, django_assert_max_num_queries)
    assert small[1] == 10 and large[1] == 110
    assert small[0] == large[0] <= 10


# --- R14.1 -----------------------------------------------------------------

def _timeline(cast):
    """Three days of a daily schedule: a good backup, a failure, a late one, a gap."""
    asset = server(cast)
    day = timedelta(days=1)
    return asset, [
        dict(finished_at=DUE + timedelta(hours=1)),
        dict(finished_at=DUE + day + timedelta(hours=1), status="failed", error="disk full"),
        dict(finished_at=DUE + 2 * day + timedelta(hours=30), started_at=DUE + 2 * day),
        dict(finished_at=DUE + 5 * day + timedelta(hours=1)),
    ]


def _history(account):
    return sorted(
        (a.subject, a.state, a.raised_at, a.resolved_at, a.details.get("missed_starts"), a.details.get("root_cause"))
        for a in Alert.objects.filter(account=account, kind="backup_alarm")
    )


def _arrive(asset, backups, at):
    """What the appliance has reported by `at`: started jobs as running, finished ones as they ended."""
    for n, backup in enumerate(backups):
        started = backup.get("started_at") or backup["finished_at"] - timedelta(hours=1)
        if started > at:
            continue
        done = backup["finished_at"] <= at
        Backup.objects.update_or_create(
            asset=asset, external_id=f"timeline-{n}",
            defaults={"account": asset.account, "started_at": started, "error": backup.get("error", "") if done else "",
                      "status": backup.get("status", "success") if done else "running",
                      "finished_at": backup["finished_at"] if done else None},
        )


@pytest.mark.slow
def test_r14_1_replaying_with_evaluate_now_equals_living_through_it(cast):
    set_global(cast.account_a)
    asset, backups = _timeline(cast)
    moments = [DUE + timedelta(hours=h) for h in range(0, 24 * 7, 6)]
    for at in moments:  # living through it: the appliance reports as jobs start and end
        _arrive(asset, backups, at)
        evaluate(cast.account_a, at)
    lived = _history(cast.account_a)
    assert any(row[1] == "resolved" for row in lived) and len(lived) >= 2
    Alert.objects.filter(account=cast.account_a).delete()
    for at in moments:  # replaying afterwards, with everything already reported
        call_command("evaluate", account=cast.account_a.pk, now=at.isoformat(), commit=True, stdout=open("/dev/null", "w"))
    assert _history(cast.account_a) == lived
