"""Evaluation by due time gives the same alerts as a full evaluation (issue 17, R14.1, R4.6).

Two accounts receive the same month, step by step: schedules daily and weekly in three time
zones, backups that arrive, fail, run long or never come, hot copies that keep up and then
stall, a threshold raised, a custom threshold assigned and deleted, a dismissal, a re-alert
interval changed, renames, a schedule replaced, an appliance silent for two days; appliances
that report their own alerts, fill up and are emptied, are downgraded and upgraded, a category
switched off and on (R2, R10); SaaS sources whose daily statuses arrive late, early or ahead
of the day, one mapped late and one deleted (R8); Azure assets whose backups succeed, fail and
stall (R9). One account is evaluated whole at every step, the other only for what is due;
their open alerts (fingerprint, title, group and details) must match at every step. The same
replay with one "changed" mark taken away (a threshold's, a silent appliance's, a SaaS
status's) must find a difference: the test can fail.
"""

import json
import math
import random
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from alerts import dismiss, evaluation
from alerts.evaluation import evaluate
from alerts.models import Alert, AlertSettings
from integrations.spanning.client import DailyStatus
from integrations.spanning.poller import _store_days
from inventory import due
from inventory.ingest import ingest_backups
from inventory.models import (
    Appliance,
    ApplianceAlert,
    Asset,
    AzureAsset,
    BackupSchedule,
    SaasSource,
)
from tenancy.accounts import add_member, create_account
from tenancy.models import Organization, Role
from thresholds import changes

START = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
DAYS = 30
STEP = timedelta(minutes=97)  # not a divisor of an hour: steps fall between the moments
pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600)]  # each test replays a month for two accounts (minutes)

APPLIANCES = {"ap1": ("Acme", "UTC"), "ap2": ("Birch", "Europe/Paris"), "ap3": ("Cedar", "America/New_York")}
ASSETS = {  # name: (appliance, hot-copied, [(rrule, dtstart)])
    "mail": ("ap1", True, [("FREQ=DAILY;BYHOUR=22;BYMINUTE=0", "2026-10-01T22:00:00")]),
    "files": ("ap1", False, [("FREQ=DAILY;BYHOUR=22;BYMINUTE=0", "2026-10-01T22:00:00"),
                             ("FREQ=WEEKLY;BYDAY=SU;BYHOUR=23;BYMINUTE=0", "2026-10-04T23:00:00")]),
    "erp": ("ap2", True, [("FREQ=DAILY;BYHOUR=2;BYMINUTE=0", "2026-10-01T02:00:00")]),
    "web": ("ap2", False, [("FREQ=DAILY;BYHOUR=12;BYMINUTE=30", "2026-10-01T12:30:00")]),
    "archive": ("ap3", False, [("FREQ=WEEKLY;BYDAY=FR;BYHOUR=20;BYMINUTE=0", "2026-10-02T20:00:00")]),
    "lab": ("ap3", True, [("FREQ=DAILY;BYHOUR=6;BYMINUTE=0", "2026-10-01T06:00:00")]),
    "spare": ("ap3", False, []),
    "legacy": ("ap1", False, [("FREQ=DAILY;BYHOUR=21;BYMINUTE=0", "2026-10-01T21:00:00")]),  # never backed up
    "vault": ("ap2", True, [("FREQ=DAILY;BYHOUR=3;BYMINUTE=0", "2026-10-01T03:00:00")]),  # never hot-copied
    "old-nas": ("ap3", False, [("FREQ=DAILY;BYHOUR=19;BYMINUTE=0", "2026-10-01T19:00:00")]),  # never backed up
}
SILENT = ("ap3", START + timedelta(days=24, hours=5), START + timedelta(days=26, hours=5))
COPIES_STALL = (START + timedelta(days=9), START + timedelta(days=15))
SOURCES = {  # name: (kind, organization or None, {day: forced status})
    "s-mail": ("m365", "Acme", {d: "Failed" for d in range(5, 10)}),
    "s-docs": ("gws", "Birch", {d: "Partial" for d in range(12, 17)}),
    "s-crm": ("salesforce", "Cedar", {**{d: "Partial" for d in range(18, 21)}, **{d: "Failed" for d in range(21, 24)}}),
    "s-late": ("m365", None, {d: "Failed" for d in range(3, 8)}),  # mapped on day 10
    "s-gone": ("m365", "Birch", {d: "Failed" for d in range(14, 18)}),  # deleted on day 20
}
AZURE = {"vm-web": ("Acme", 4), "vm-db": ("Birch", 9), "vm-build": ("Cedar", 15)}  # name: (organization, hour)
AZURE_STALL = {"vm-db": (6, 9), "vm-build": (17, 22)}  # days without a good backup


def build(name):
    account = create_account(name)
    AlertSettings.objects.create(account=account)
    user = add_member(account, f"super@{name.lower()}.example", None, Role.SUPERUSER)
    organizations = {org: Organization.objects.create(account=account, name=org) for org in ("Acme", "Birch", "Cedar")}
    for external_id, (org, zone) in APPLIANCES.items():
        Appliance.objects.create(
            account=account, organization=organizations[org], external_id=external_id, name=external_id,
            version="10.8.2", timezone=zone, last_contact_at=START, logical_capacity_bytes=10, logical_free_bytes=5,
            purge_eligible_backups=3,
        )
    for asset_name, (appliance, hot, schedules) in ASSETS.items():
        asset = Asset(appliance=Appliance.objects.get(account=account, external_id=appliance), external_id=asset_name,
                      name=asset_name, type="windows", hot_copy=hot)
        asset.save()
        for rrule, dtstart in schedules:
            BackupSchedule.objects.create(account=account, asset=asset, rrule=rrule, dtstart=dtstart)
    for source_name, (kind, org, _) in SOURCES.items():
        SaasSource.objects.create(account=account, organization=organizations.get(org), kind=kind,
                                  name=source_name, external_id=source_name)
    for vm, (org, _) in AZURE.items():
        AzureAsset.objects.create(account=account, organization=organizations[org], client_external_id=org,
                                  client_name=org, external_id=vm, name=vm,
                                  last_successful_backup_at=START - timedelta(hours=20))
    changes.save_global(account, {"backups_enabled": True, "backups_hours": 24, "hot_copy_enabled": True,
                                  "hot_copy_hours": 24})
    return {"account": account, "user": user, "organizations": organizations}


def timeline():
    """[(moment, action name, arguments)], the same for both accounts, oldest first."""
    rng = random.Random(17)
    events = []
    for asset_name, (appliance, hot, schedules) in ASSETS.items():
        for day in range(-2, DAYS):
            for rrule, _ in schedules:
                if "WEEKLY" in rrule and (START + timedelta(days=day)).weekday() != (6 if "SU" in rrule else 4):
                    continue
                hour = int(rrule.split("BYHOUR=")[1].split(";")[0])
                started = START + timedelta(days=day, hours=hour, minutes=7)
                fate = 0.9 if asset_name == "vault" else rng.random()
                ident = f"{asset_name}-{day}-{hour}"
                if fate < 0.15 or asset_name in ("legacy", "old-nas"):
                    continue  # never ran
                if fate < 0.25:
                    events.append((started + timedelta(hours=1), "backup", (appliance, asset_name, ident, "failed",
                                                                              started, started + timedelta(hours=1))))
                    continue
                if fate < 0.32:  # runs long: seen running, then done
                    events.append((started + timedelta(minutes=5), "backup",
                                   (appliance, asset_name, ident, "running", started, None)))
                    ends = started + timedelta(hours=30)
                else:
                    ends = started + timedelta(hours=1)
                events.append((ends, "backup", (appliance, asset_name, ident, "success", started, ends)))
                stalled = COPIES_STALL[0] <= ends < COPIES_STALL[1]
                if hot and not stalled and asset_name != "vault" and rng.random() < 0.8:
                    copied = ends + timedelta(hours=2)
                    events.append((copied, "copy", (appliance, asset_name, ident, copied)))
    days = lambda n, hours=0: START + timedelta(days=n, hours=hours)  # noqa: E731
    events += saas_timeline(rng, days) + azure_timeline(rng, days) + appliance_timeline(days)
    events += [
        (days(8, 9), "dismiss", ("Acme",)),
        (days(12, 3), "reschedule", ("archive", "FREQ=WEEKLY;BYDAY=TU;BYHOUR=20;BYMINUTE=0")),
        (days(14, 10), "rename_organization", ("Cedar", "Cedar Ltd")),
        (days(16, 11), "rename_asset", ("web", "web-frontend")),
        (days(18, 8), "global", ({"backups_hours": 48},)),
        (days(20, 13), "custom", ("Birch", {"name": "Tight", "backups_enabled": True, "backups_hours": 6,
                                            "hot_copy_enabled": True, "hot_copy_hours": 3, "azure_hours": 12})),
        (days(22, 7), "realert", (6,)),
        (days(23, 1), "dismiss", ("Birch",)),
        (days(27, 15), "delete_custom", ("Tight",)),
        (days(28, 0), "global", ({"hot_copy_enabled": False},)),
    ]
    return sorted(events, key=lambda e: e[0])


def saas_timeline(rng, days):
    """A day's status mostly arrives the next morning; some the same evening, some a day ahead
    (a vendor's time zone), some re-read with another status (R15.4)."""
    events = []
    for name, (_, _, forced) in SOURCES.items():
        for day in range(-3, DAYS):
            status = forced.get(day) or rng.choice(["Successful"] * 7 + ["Partial", "Failed"])
            arrives = rng.choice([days(day + 1, 2)] * 6 + [days(day, 21), days(day - 1, 22)])
            events.append((max(arrives, days(-3)), "status", (name, day, status)))
            if rng.random() < 0.1:
                events.append((arrives + timedelta(hours=5), "status", (name, day, "Successful")))
    return events + [(days(10, 4), "map_source", ("s-late", "Acme")), (days(20, 6), "delete_source", ("s-gone",))]


def azure_timeline(rng, days):
    events = []
    for vm, (_, hour) in AZURE.items():
        stall = AZURE_STALL.get(vm, (DAYS, DAYS))
        for day in range(DAYS):
            ok = not stall[0] <= day < stall[1] and rng.random() < 0.85
            events.append((days(day, hour) + timedelta(minutes=40), "azure", (vm, ok, days(day, hour))))
    return events


def appliance_timeline(days):
    return [
        (days(2, 6), "reported", ("ap1", "41", "storage", True)),
        (days(4, 6), "reported", ("ap1", "41", "storage", False)),
        (days(6, 2), "reported", ("ap2", "7", "hot_copy", True)),
        (days(7, 10), "category", ("hot_copy", False)),
        (days(9, 10), "category", ("hot_copy", True)),
        (days(11, 3), "reported", ("ap2", "7", "hot_copy", False)),
        (days(5, 12), "storage", ("ap2", 1, 0)),  # 1% free, nothing eligible: purging (R10.1)
        (days(8, 12), "storage", ("ap2", 1, 4)),
        (days(13, 12), "storage", ("ap3", 2, 0)),
        (days(19, 12), "storage", ("ap3", 40, 0)),
        (days(15, 8), "version", ("ap1", "10.5.0")),  # R2.2: the upgrade alert lists it
        (days(21, 8), "version", ("ap1", "10.8.2")),
    ]


def apply(world, action, args, now):
    account = world["account"]
    if action in CLOUD_ACTIONS:
        CLOUD_ACTIONS[action](world, now, *args)
    elif action == "backup":
        appliance, asset, ident, status, started, finished = args
        item = {"appliance": appliance, "asset": asset, "external_id": ident, "status": status,
                "started_at": started.isoformat(), "finished_at": finished.isoformat() if finished else None}
        assert not ingest_backups(account, [item]).errors
    elif action == "copy":
        appliance, asset, ident, finished = args
        item = {"appliance": appliance, "asset": asset, "external_id": f"copy-{ident}", "kind": "hot_copy",
                "of_backup": ident, "status": "success", "started_at": (finished - timedelta(minutes=30)).isoformat(),
                "finished_at": finished.isoformat()}
        assert not ingest_backups(account, [item]).errors
    elif action == "dismiss":
        organization = world["organizations"][args[0]]
        dismiss.dismiss_selection(world["user"], organization_id=organization.pk, now=now)
    elif action == "reschedule":
        asset = Asset.objects.get(account=account, external_id=args[0])
        BackupSchedule.objects.filter(asset=asset).delete()
        BackupSchedule.objects.create(account=account, asset=asset, rrule=args[1], dtstart="2026-10-01T20:00:00")
    elif action == "rename_organization":
        organization = world["organizations"][args[0]]
        organization.name = args[1]
        organization.save()
    elif action == "rename_asset":
        asset = Asset.objects.get(account=account, external_id=args[0])
        asset.name = args[1]
        asset.save()
    elif action == "global":
        changes.save_global(account, args[0])
    elif action == "custom":
        changes.save_custom(account, args[1], organizations=[world["organizations"][args[0]]])
    elif action == "realert":
        settings_row = AlertSettings.for_account(account)
        settings_row.realert_hours = args[0]
        settings_row.save()
    elif action == "delete_custom":
        changes.delete_custom(account.custom_thresholds.get(name=args[0]))


def store_status(world, now, name, day, status):
    source = SaasSource.objects.filter(account=world["account"], external_id=name).first()
    if source is None:
        return  # deleted: the poll no longer lists it
    _store_days(source, [DailyStatus(date=(START + timedelta(days=day)).date(), status=status)])  # the poll's upsert


def map_source(world, now, name, organization):
    source = SaasSource.objects.get(account=world["account"], external_id=name)
    source.organization = world["organizations"][organization]
    source.save()


def delete_source(world, now, name):
    SaasSource.objects.get(account=world["account"], external_id=name).delete()


def azure_backup(world, now, vm, ok, started):
    asset = AzureAsset.objects.get(account=world["account"], external_id=vm)  # as the Datto poll saves it
    asset.last_backup_status, asset.last_backup_at = ("Succeeded" if ok else "Failed"), started
    if ok:
        asset.last_successful_backup_at = started + timedelta(minutes=30)
    asset.save()


def reported(world, now, appliance, external_id, category, active):
    appliance = Appliance.objects.get(account=world["account"], external_id=appliance)
    ApplianceAlert.objects.update_or_create(
        appliance=appliance, external_id=external_id,
        defaults={"account": world["account"], "category": category, "message": f"{category} fault", "active": active},
    )


def category(world, now, name, enabled):
    settings_row = AlertSettings.for_account(world["account"])
    settings_row.categories = {**settings_row.categories, name: enabled}
    settings_row.save()


def storage(world, now, appliance, free_percent, eligible):
    appliance = Appliance.objects.get(account=world["account"], external_id=appliance)
    appliance.logical_capacity_bytes, appliance.logical_free_bytes = 100, free_percent
    appliance.purge_eligible_backups = eligible
    appliance.save()


def version(world, now, appliance, number):
    appliance = Appliance.objects.get(account=world["account"], external_id=appliance)
    appliance.version = number
    appliance.save()


CLOUD_ACTIONS = {"status": store_status, "map_source": map_source, "delete_source": delete_source,
                 "azure": azure_backup, "reported": reported, "category": category, "storage": storage,
                 "version": version}


def heartbeat(world, now):
    """The appliances check in every 10 minutes (as a poll does), except one for two days."""
    for minutes in range(int(STEP.total_seconds() // 60) // 10 * 10, -1, -10):
        at = now - timedelta(minutes=minutes)
        with time_machine.travel(at, tick=False):
            appliances = Appliance.objects.filter(account=world["account"])
            if SILENT[1] <= at < SILENT[2]:
                appliances = appliances.exclude(external_id=SILENT[0])
            due.contact_refreshed(appliances)
            appliances.update(last_contact_at=at, status=Appliance.Status.ONLINE)


def open_alerts(account):
    """What a person sees of the open alerts, with ids replaced by names (the two accounts' ids differ)."""
    names = {f"asset:{pk}": f"asset:{external_id}" for pk, external_id in
             Asset.objects.filter(account=account).values_list("pk", "external_id")}
    names |= {f"appliance:{pk}": f"appliance:{external_id}" for pk, external_id in
              Appliance.objects.filter(account=account).values_list("pk", "external_id")}
    names |= {f"azure:{pk}": f"azure:{external_id}" for pk, external_id in
              AzureAsset.objects.filter(account=account).values_list("pk", "external_id")}

    def name(subject):
        if subject.startswith("appliance:") and ":alert:" in subject:
            appliance, rest = subject.split(":alert:")
            return f"{names.get(appliance, appliance)}:alert:{rest}"
        if subject.startswith("saas:"):
            _, pk, level = subject.split(":")
            return f"saas:{sources.get(int(pk), pk)}:{level}"
        return names.get(subject, subject)

    sources = dict(SaasSource.objects.filter(account=account).values_list("pk", "external_id"))
    return sorted(
        (a.kind, name(a.subject), a.title, a.group_label, _without_ids(a.details))
        for a in Alert.objects.filter(account=account, state="open")
    )


def _without_ids(details):
    """The upgrade alert lists appliance ids, which differ between the two accounts."""
    if "appliances" in details:
        details = {**details, "appliances": [{k: v for k, v in a.items() if k != "id"} for a in details["appliances"]]}
    return json.dumps(details, sort_keys=True)


def replay(from_day=0):
    """Answers (first step where the two differ or None, alerts seen open over the month).

    From `from_day` on, only: the events before it are applied without evaluating, then both
    accounts are evaluated whole once and stepped from there (a test that looks for the effect
    of one change replays the days around it, not the month)."""
    full, by_due = build("Full"), build("Due")
    events = timeline()
    seen, now = set(), START + STEP * math.ceil(timedelta(days=from_day) / STEP)
    if from_day:
        while events and events[0][0] <= now:
            moment, action, args = events.pop(0)
            with time_machine.travel(moment, tick=False):
                for world in (full, by_due):
                    apply(world, action, args, moment)
        with time_machine.travel(now, tick=False):
            for world in (full, by_due):
                heartbeat(world, now)
                evaluate(world["account"], now)
        now += STEP
    while now < START + timedelta(days=DAYS):
        with time_machine.travel(now, tick=False):
            while events and events[0][0] <= now:
                _, action, args = events.pop(0)
                for world in (full, by_due):
                    apply(world, action, args, timezone.now())
            for world in (full, by_due):
                heartbeat(world, now)
            evaluate(full["account"], now)
            evaluation.evaluate_due(by_due["account"], now)
            expected, got = open_alerts(full["account"]), open_alerts(by_due["account"])
            if expected != got:
                return (now, sorted(set(expected) - set(got)), sorted(set(got) - set(expected))), seen
            seen.update((kind, subject) for kind, subject, *_ in expected)
        now += STEP
    return None, seen


@pytest.mark.long(seconds=450)
@pytest.mark.django_db
def test_r14_1_a_month_evaluated_by_due_time_opens_the_same_alerts_as_full_evaluations():
    difference, seen = replay()
    assert difference is None, difference
    kinds = {kind for kind, _ in seen}
    assert {"backup_alarm", "hot_copy_alarm", "appliance_offline", "appliance_alert", "purging", "appliance_upgrade",
            "spanning_m365", "spanning_gws", "spanning_salesforce", "dbma_backup"} <= kinds  # the month exercised them
    assert len(seen) >= 16


@pytest.mark.long(seconds=120)
@pytest.mark.django_db
def test_r4_6_the_replay_finds_a_threshold_change_that_did_not_make_assets_due(monkeypatch):
    monkeypatch.setattr(due, "account_changed", lambda account_id: 0)  # R4.6 forgotten
    difference, _ = replay(from_day=17)
    assert difference is not None
    assert difference[0] >= START + timedelta(days=18, hours=8)  # found after the first threshold change


@pytest.mark.long(seconds=60)
@pytest.mark.django_db
def test_r7_2_the_replay_finds_alarms_that_missed_their_appliance_going_silent(monkeypatch):
    monkeypatch.setattr(evaluation, "gone_silent", lambda account, now: set())  # R7.2 forgotten
    difference, _ = replay(from_day=23)
    assert difference is not None
    assert difference[0] >= SILENT[1]


@pytest.mark.long(seconds=40)
@pytest.mark.django_db
def test_r8_2_the_replay_finds_a_saas_status_that_did_not_make_its_source_due(monkeypatch):
    monkeypatch.setattr(due, "sources_changed", lambda source_ids: 0)  # a status's arrival forgotten
    difference, _ = replay(from_day=2)
    assert difference is not None
    assert any(row[0].startswith("spanning") for row in difference[1] + difference[2])
