"""A fixed cast built once per test: two accounts, each role, and factories for inventory."""

import os
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from rest_framework.test import APIClient

from alerts.models import AlertSettings
from inventory.models import Appliance, Asset, BackupSchedule
from tenancy.accounts import add_member, create_account
from tenancy.models import ApiToken, Organization, Role, TokenScope

pytest_plugins = ["tests.browser", "fakes.pytest_plugin"]  # fixtures: a real Chromium; one fake per vendor

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The cast logs in with passwords; a slow hash only slows the suite."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_appliance(account, organization, name="appliance-1", **fields):
    values = {
        "external_id": name, "name": name, "version": "10.8.2", "timezone": "UTC",
        "last_contact_at": NOW, "logical_capacity_bytes": 10 * 1024**4, "logical_free_bytes": 5 * 1024**4,
        "purge_eligible_backups": 3,
    }
    values.update(fields)
    return Appliance.objects.create(account=account, organization=organization, **values)


def record_day(subject, day, state, organization=None):
    """One day of an asset's or SaaS source's compliance history, as reports/compliance.py keeps
    it: a letter in the subject's month row in its organization."""
    from reports.models import LETTERS, UNKNOWN, SubjectMonth
    from reports.monthly import month_bounds

    month, end = month_bounds(day)
    length = end.day
    field = "asset" if isinstance(subject, Asset) else "saas_source"
    row, _ = SubjectMonth.objects.get_or_create(
        **{field: subject}, month=month, organization=organization or subject.organization,
        defaults={"account": subject.account, "states": UNKNOWN * length})
    row.states = row.states[:day.day - 1] + LETTERS[state] + row.states[day.day:]
    row.save(update_fields=["states"])
    return row


def make_asset(appliance, name="server-1", rrule="FREQ=DAILY;BYHOUR=22;BYMINUTE=0", **fields):
    values = {"external_id": name, "name": name, "type": "windows"}
    values.update(fields)
    asset = Asset(appliance=appliance, **values)
    asset.save()
    if rrule:
        BackupSchedule.objects.create(
            account=asset.account, asset=asset, rrule=rrule, dtstart="2026-10-01T22:00:00"
        )
    return asset


def api_client(user, scope=TokenScope.FULL):
    client = APIClient()
    if user is not None:
        _, plaintext = ApiToken.issue(user, scope)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


def build_cast():
    a = create_account("MSP A")
    b = create_account("MSP B")
    org_a1 = Organization.objects.create(account=a, name="Acme")
    org_a2 = Organization.objects.create(account=a, name="Birch")
    org_b1 = Organization.objects.create(account=b, name="Acme")
    AlertSettings.objects.create(account=a, emails=["noc@msp-a.example"])
    AlertSettings.objects.create(account=b, emails=["noc@msp-b.example"])
    return SimpleNamespace(
        account_a=a, account_b=b, org_a1=org_a1, org_a2=org_a2, org_b1=org_b1,
        superuser_a=add_member(a, "super@a.example", PASSWORD, Role.SUPERUSER),
        admin_a=add_member(a, "admin@a.example", PASSWORD, Role.ADMIN),
        monitor_a=add_member(a, "monitor@a.example", PASSWORD, Role.MONITOR),
        scoped_admin_a=add_member(a, "scoped@a.example", PASSWORD, Role.ADMIN, organizations=[org_a2]),
        superuser_b=add_member(b, "super@b.example", PASSWORD, Role.SUPERUSER),
    )


@pytest.fixture
def cast(db):
    return build_cast()


@pytest.fixture
def offline_appliances(cast):
    """Account A: one appliance silent for an hour in Acme, one online in Birch; B: one silent."""
    return SimpleNamespace(
        a_silent=make_appliance(cast.account_a, cast.org_a1, "a-silent", last_contact_at=NOW - timedelta(hours=1)),
        a_online=make_appliance(cast.account_a, cast.org_a2, "a-online", last_contact_at=NOW),
        a2_silent=make_appliance(cast.account_a, cast.org_a2, "a2-silent", last_contact_at=NOW - timedelta(hours=2)),
        b_silent=make_appliance(cast.account_b, cast.org_b1, "b-silent", last_contact_at=NOW - timedelta(hours=1)),
    )


def pytest_collection_modifyitems(items):
    """A browser test is a slow test too: `-m "not slow"` leaves both out.

    The suite runs with `--dist worksteal` (scripts/test.sh): each worker starts with an equal
    slice of the list, and a worker with nothing left takes half of another's queue from its end.
    So the long tests go at the front of the slices, longest first, each to the slice with the
    least long work so far: every worker starts on one and no long test waits behind another
    while the short ones are shared out around them."""
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.slow)
    seconds = {item: item.get_closest_marker("long").kwargs["seconds"]
               for item in items if item.get_closest_marker("long")}
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if not seconds or workers < 2:
        return
    slices = [[] for _ in range(workers)]
    for item in sorted(seconds, key=seconds.get, reverse=True):
        min(slices, key=lambda tests: sum(seconds[t] for t in tests)).append(item)
    rest = [item for item in items if item not in seconds]
    ordered, left = [], len(items)
    for remaining, tests in zip(range(workers, 0, -1), slices, strict=True):
        size = left // remaining  # as worksteal slices the list among the idle workers
        short = max(size - len(tests), 0)
        ordered += tests + rest[:short]
        rest, left = rest[short:], left - len(tests) - short
    items[:] = ordered + rest
