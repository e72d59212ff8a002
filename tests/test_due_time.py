"""Evaluation by due time (issue 17): what beat's cycle evaluates, what it writes, how soon it
sees a missed backup (R14.1), and the full evaluation split per organization."""

from datetime import UTC, datetime, timedelta

import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts.evaluation import evaluate, evaluate_due, evaluate_shard
from alerts.models import Alert
from inventory.models import Asset
from tests.conftest import make_appliance, make_asset
from tests.test_backup_alarm import make_backup, set_global

# A daily 22:00 schedule, N = 24 h: the start of 1 November is due at 2 November 22:00.
START = datetime(2026, 11, 1, 22, 0, tzinfo=UTC)
DUE = START + timedelta(hours=24)


def open_fingerprints(account):
    return sorted(Alert.objects.filter(account=account, state="open").values_list("fingerprint", "details"))


def test_r14_1_a_missed_backup_is_alerted_within_a_minute_of_its_due_moment(cast):
    set_global(cast.account_a)
    asset = make_asset(make_appliance(cast.account_a, cast.org_a1, last_contact_at=DUE + timedelta(days=1)))
    make_backup(asset, START - timedelta(hours=23))  # the backup of 31 October; 1 November's never comes
    for at, alarms in ((START + timedelta(hours=2), 0), (DUE - timedelta(minutes=1), 0), (DUE + timedelta(seconds=30), 1)):
        with time_machine.travel(at, tick=False):
            evaluate_due(cast.account_a, at)
        assert Alert.objects.filter(account=cast.account_a, kind="backup_alarm", state="open").count() == alarms


def test_an_asset_not_due_is_not_evaluated_until_its_moment_and_carries_the_next_one(cast, settings):
    settings.EVALUATION_DUE_HORIZON_HOURS = 72
    set_global(cast.account_a)
    asset = make_asset(make_appliance(cast.account_a, cast.org_a1, last_contact_at=DUE + timedelta(days=1)))
    make_backup(asset, START + timedelta(minutes=40))
    at = START + timedelta(hours=3)
    with time_machine.travel(at, tick=False):
        evaluate_due(cast.account_a, at)
    asset.refresh_from_db()
    # 1 November's start is covered by its backup: the next to become due is 2 November's, + 24 h.
    assert asset.next_check_at == datetime(2026, 11, 3, 22, 0, tzinfo=UTC)
    settings.EVALUATION_DUE_HORIZON_HOURS = 24  # at the latest a day after its last evaluation
    with time_machine.travel(at, tick=False):
        make_backup(asset, START + timedelta(minutes=50))  # marked changed: evaluated again
        evaluate_due(cast.account_a, at)
    asset.refresh_from_db()
    assert asset.next_check_at == at + timedelta(hours=24)


def test_an_idle_cycle_writes_nothing_not_even_its_evaluation_row(cast):
    set_global(cast.account_a)
    appliance = make_appliance(cast.account_a, cast.org_a1, last_contact_at=DUE + timedelta(days=1))
    for name in ("one", "two", "three"):
        make_asset(appliance, name=name)  # never backed up: alarming
    at = DUE + timedelta(hours=1)
    with time_machine.travel(at, tick=False):
        evaluate_due(cast.account_a, at)
        assert Alert.objects.filter(account=cast.account_a, state="open").count() == 3
        with CaptureQueriesContext(connection) as ctx:
            evaluate_due(cast.account_a, at + timedelta(seconds=30))
    writes = [q["sql"] for q in ctx.captured_queries if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")]
    assert writes == []


def test_r5_1_a_good_backup_makes_its_asset_due_at_once_and_resolves_its_alarm(cast):
    set_global(cast.account_a)
    asset = make_asset(make_appliance(cast.account_a, cast.org_a1, last_contact_at=DUE + timedelta(days=1)))
    at = DUE + timedelta(hours=1)
    with time_machine.travel(at, tick=False):
        evaluate_due(cast.account_a, at)
        assert Alert.objects.filter(account=cast.account_a, state="open").count() == 1
        make_backup(asset, at - timedelta(minutes=5))
        assert Asset.objects.get(pk=asset.pk).next_check_at <= at  # marked changed
        evaluate_due(cast.account_a, at + timedelta(seconds=30))
    assert Alert.objects.filter(account=cast.account_a, state="open").count() == 0


def test_r14_1_a_full_evaluation_split_per_organization_gives_the_full_result(cast):
    set_global(cast.account_a)
    for org, name in ((cast.org_a1, "a"), (cast.org_a2, "b")):
        appliance = make_appliance(cast.account_a, org, name, last_contact_at=DUE - timedelta(days=1))
        for n in range(3):
            asset = make_asset(appliance, name=f"{name}-{n}")
            if n == 0:
                make_backup(asset, START + timedelta(hours=1))
    make_appliance(cast.account_b, cast.org_b1, "b1", last_contact_at=DUE - timedelta(days=1))
    at = DUE + timedelta(hours=1)
    with time_machine.travel(at, tick=False):
        evaluate(cast.account_a, at)
        expected = open_fingerprints(cast.account_a)
        Alert.objects.filter(account=cast.account_a).delete()
        for organizations in ([cast.org_a1.pk], [cast.org_a2.pk], None):
            evaluate_shard(cast.account_a, at, organizations)
    assert expected and open_fingerprints(cast.account_a) == expected
    assert not Alert.objects.filter(account=cast.account_b).exists()


def test_the_evaluate_command_runs_by_due_time_when_asked(cast, capsys):
    set_global(cast.account_a)
    make_asset(make_appliance(cast.account_a, cast.org_a1, last_contact_at=DUE + timedelta(days=1)))
    at = DUE + timedelta(hours=1)
    with time_machine.travel(at, tick=False):
        call_command("evaluate", "--due", "--account", str(cast.account_a.pk))
    assert "raised 1" in capsys.readouterr().out
