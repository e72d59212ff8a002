"""Evaluation by due time (issue 17): what beat's cycle evaluates, what it writes, how soon it
sees a missed backup, a silent appliance, a SaaS source's held level or a late Azure backup
(R14.1), what marks each type of subject due, and the full evaluation split per organization."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts.evaluation import evaluate, evaluate_due, evaluate_shard
from alerts.models import Alert, AlertSettings
from inventory.due import next_check_of
from inventory.models import (
    ApplianceAlert,
    Asset,
    AzureAsset,
    BackupSchedule,
    NextCheck,
    SaasDailyStatus,
    SaasSource,
)
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
    assert next_check_of(asset) == datetime(2026, 11, 3, 22, 0, tzinfo=UTC)
    settings.EVALUATION_DUE_HORIZON_HOURS = 24  # at the latest a day after its last evaluation
    with time_machine.travel(at, tick=False):
        make_backup(asset, START + timedelta(minutes=50))  # marked changed: evaluated again
        evaluate_due(cast.account_a, at)
    asset.refresh_from_db()
    assert next_check_of(asset) == at + timedelta(hours=24)


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
        assert next_check_of(asset) <= at  # marked changed
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


# Appliances (R2, R10), SaaS sources (R8) and Azure assets (R9) carry their own next moment.

def writes_of(ctx):
    return [q["sql"] for q in ctx.captured_queries if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")]


def silent_appliance(cast, contact):
    """An appliance whose last contact is `contact`, no asset, 4% free and nothing to purge."""
    return make_appliance(cast.account_a, cast.org_a1, "ap-silent", last_contact_at=contact)


def saas_source(cast, statuses):
    """A mapped Microsoft 365 source with {date: status}."""
    source = SaasSource.objects.create(account=cast.account_a, organization=cast.org_a1, kind="m365",
                                       name="Acme tenant", external_id="tenant-1")
    for day, status in statuses.items():
        SaasDailyStatus.objects.create(account=cast.account_a, source=source, date=day, status=status)
    return source


def azure_asset(cast, last_good):
    return AzureAsset.objects.create(account=cast.account_a, organization=cast.org_a1, client_external_id="11",
                                     client_name="ACME", external_id="vm-1", name="acme-web",
                                     last_successful_backup_at=last_good)


def open_kinds(account):
    return sorted(Alert.objects.filter(account=account, state="open").values_list("kind", flat=True))


def test_r14_1_an_appliance_is_alerted_offline_within_a_minute_of_its_silence_reaching_30_minutes(cast):
    contact = START
    appliance = silent_appliance(cast, contact)
    moment = contact + timedelta(minutes=30)
    for at, kinds in ((contact + timedelta(minutes=5), []), (moment, []), (moment + timedelta(seconds=30),
                                                                            ["appliance_offline"])):
        with time_machine.travel(at, tick=False):
            evaluate_due(cast.account_a, at)
        assert open_kinds(cast.account_a) == kinds, at
    appliance.refresh_from_db()
    assert next_check_of(appliance) > moment  # evaluated at its moment, then not again until the horizon


def test_r14_1_a_saas_source_is_alerted_within_a_minute_of_the_day_its_level_has_held_two_days(cast):
    """R8.4: Failed on the 1st, 2nd and 3rd (a status dated ahead, as a vendor's time zone can
    give): it holds two days once the 3rd has begun, and the source is due at midnight."""
    saas_source(cast, {date(2026, 11, d): "Failed" for d in (1, 2, 3)})
    midnight = datetime(2026, 11, 3, 0, 0, tzinfo=UTC)
    for at, kinds in ((midnight - timedelta(hours=12), []), (midnight - timedelta(minutes=1), []),
                      (midnight + timedelta(seconds=30), ["spanning_m365"])):
        with time_machine.travel(at, tick=False):
            evaluate_due(cast.account_a, at)
        assert open_kinds(cast.account_a) == kinds, at


def test_r14_1_an_azure_asset_is_alerted_within_a_minute_of_its_last_good_backup_plus_its_threshold(cast):
    set_global(cast.account_a, azure_hours=24)
    make_appliance(cast.account_a, cast.org_a1, last_contact_at=START + timedelta(days=5))
    moment = START + timedelta(hours=24)
    azure_asset(cast, last_good=START)
    for at, kinds in ((START + timedelta(hours=1), []), (moment, []), (moment + timedelta(seconds=30),
                                                                       ["dbma_backup"])):
        with time_machine.travel(at, tick=False):
            evaluate_due(cast.account_a, at)
        assert open_kinds(cast.account_a) == kinds, at


IDLE_SUBJECTS = {
    "appliance": (lambda cast: silent_appliance(cast, START - timedelta(hours=2)), "appliance_offline"),
    "saas": (lambda cast: saas_source(cast, {date(2026, 10, 30) + timedelta(days=d): "Failed" for d in range(3)}),
             "spanning_m365"),
    "azure": (lambda cast: azure_asset(cast, last_good=START - timedelta(days=3)), "dbma_backup"),
}


@pytest.mark.parametrize("subject", sorted(IDLE_SUBJECTS))
def test_r14_1_an_idle_cycle_with_an_alarming_subject_of_each_type_writes_nothing(cast, subject):
    set_global(cast.account_a)
    build, kind = IDLE_SUBJECTS[subject]
    row = build(cast)
    at = START + timedelta(hours=1)
    with time_machine.travel(at, tick=False):
        evaluate_due(cast.account_a, at)
        assert kind in open_kinds(cast.account_a)
        evaluate_due(cast.account_a, at + timedelta(seconds=10))  # a SaaS alert just raised is read once more (R8.6)
        row.refresh_from_db()
        assert next_check_of(row) > at + timedelta(seconds=30)  # its moment is written, in the future
        with CaptureQueriesContext(connection) as ctx:
            evaluate_due(cast.account_a, at + timedelta(seconds=30))
    assert writes_of(ctx) == []
    assert kind in open_kinds(cast.account_a)


def test_r10_1_an_appliance_filling_up_is_marked_due_and_its_purging_alert_raised_at_the_next_cycle(cast):
    appliance = make_appliance(cast.account_a, cast.org_a1, last_contact_at=START)
    at = START + timedelta(minutes=5)
    with time_machine.travel(at, tick=False):
        evaluate_due(cast.account_a, at)
        assert open_kinds(cast.account_a) == []
        assert next_check_of(appliance) > at
        appliance.logical_free_bytes, appliance.purge_eligible_backups = appliance.logical_capacity_bytes // 50, 0
        appliance.save()
        assert next_check_of(appliance) <= at  # marked changed
        ApplianceAlert.objects.create(account=cast.account_a, appliance=appliance, external_id="7",
                                      category="storage", message="Pool degraded")
        evaluate_due(cast.account_a, at + timedelta(seconds=30))
    assert open_kinds(cast.account_a) == ["appliance_alert", "purging"]


def test_r8_2_a_status_arriving_marks_its_source_due_and_the_next_cycle_raises(cast):
    source = saas_source(cast, {date(2026, 11, 1): "Failed", date(2026, 11, 2): "Failed"})
    at = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
    with time_machine.travel(at, tick=False):
        evaluate_due(cast.account_a, at)
        assert open_kinds(cast.account_a) == []  # held one day only (R8.4)
        assert next_check_of(source) == datetime(2026, 11, 3, tzinfo=UTC)
        SaasDailyStatus.objects.create(account=cast.account_a, source=source, date=date(2026, 10, 31),
                                       status="Failed")  # a late status: 31 October was Failed too
        assert next_check_of(source) <= at  # marked changed
        evaluate_due(cast.account_a, at + timedelta(seconds=30))
    assert open_kinds(cast.account_a) == ["spanning_m365"]


def test_r9_3_a_new_backup_or_a_remapping_marks_the_azure_asset_due(cast):
    set_global(cast.account_a, azure_hours=24)
    make_appliance(cast.account_a, cast.org_a1, last_contact_at=START + timedelta(days=5))
    asset = azure_asset(cast, last_good=START - timedelta(days=2))
    at = START + timedelta(hours=1)
    with time_machine.travel(at, tick=False):
        evaluate_due(cast.account_a, at)
        assert open_kinds(cast.account_a) == ["dbma_backup"]
        asset.last_successful_backup_at = at - timedelta(minutes=10)
        asset.save()  # the Datto poll saves each asset
        assert next_check_of(asset) <= at
        evaluate_due(cast.account_a, at + timedelta(seconds=30))
        assert open_kinds(cast.account_a) == []
        assert next_check_of(asset) == asset.last_successful_backup_at + timedelta(
            hours=24, microseconds=1)


def test_r15_2_an_alert_of_a_deleted_saas_source_resolves_at_the_next_cycle(cast):
    source = saas_source(cast, {date(2026, 10, 30) + timedelta(days=d): "Failed" for d in range(3)})
    at = START + timedelta(hours=1)
    with time_machine.travel(at, tick=False):
        evaluate_due(cast.account_a, at)
        assert open_kinds(cast.account_a) == ["spanning_m365"]
        SaasSource.objects.filter(pk=source.pk).delete()  # no receiver: nothing marks it
        evaluate_due(cast.account_a, at + timedelta(seconds=30))
    assert open_kinds(cast.account_a) == []


def test_r2_1_a_category_switched_off_makes_every_appliance_due(cast):
    appliance = make_appliance(cast.account_a, cast.org_a1, last_contact_at=START)
    at = START + timedelta(minutes=5)
    with time_machine.travel(at, tick=False):
        evaluate_due(cast.account_a, at)
        assert next_check_of(appliance) > at
        settings_row = AlertSettings.for_account(cast.account_a)
        settings_row.categories = {**settings_row.categories, "storage": False}
        settings_row.save()
    assert next_check_of(appliance) <= at


def test_r14_1_assets_written_in_bulk_are_due_at_once_and_their_moments_leave_with_them(cast):
    # The database keeps one next moment per subject (inventory.NextCheck): rows written without
    # the ORM's save (bulk_create, COPY) are evaluated at the next cycle like any other.
    set_global(cast.account_a)
    appliance = make_appliance(cast.account_a, cast.org_a1, last_contact_at=DUE + timedelta(days=1))
    assets = Asset.objects.bulk_create([
        Asset(account=cast.account_a, appliance=appliance, organization=cast.org_a1, external_id=f"vm-{n}",
              name=f"vm-{n}", type="vmware") for n in range(3)
    ])
    BackupSchedule.objects.bulk_create([
        BackupSchedule(account=cast.account_a, asset=a, rrule="FREQ=DAILY;BYHOUR=22;BYMINUTE=0",
                       dtstart="2026-10-01T22:00:00") for a in assets
    ])
    at = DUE + timedelta(seconds=30)
    assert all(next_check_of(a) <= at for a in assets)
    with time_machine.travel(at, tick=False):
        evaluate_due(cast.account_a, at)
    assert Alert.objects.filter(account=cast.account_a, kind="backup_alarm", state="open").count() == 3
    assert all(next_check_of(a) > at for a in assets)
    Asset.objects.filter(pk=assets[0].pk).delete()
    assert next_check_of(assets[0]) is None
    assert NextCheck.objects.filter(kind="asset", subject_id__in=[a.pk for a in assets]).count() == 2
