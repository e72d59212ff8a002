"""R12.1: the asset detail and its recovery points, in the API."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from inventory.asset_detail import age
from inventory.models import Backup, BackupCopy
from tests.conftest import NOW, api_client, make_appliance, make_asset


def backup(asset, external_id, started_at, status="success", type_="incremental", size=1024, **fields):
    return Backup.objects.create(
        account=asset.account, asset=asset, external_id=external_id, type=type_, status=status,
        started_at=started_at, finished_at=started_at + timedelta(minutes=30), size_bytes=size, **fields,
    )


def copy(asset, of, target, started_at, status="success"):
    return BackupCopy.objects.create(
        account=asset.account, asset=asset, backup=of, external_id=f"{target}-{of.external_id}", target=target,
        status=status, started_at=started_at, finished_at=started_at + timedelta(minutes=10),
    )


@pytest.fixture
def asset(cast):
    appliance = make_appliance(cast.account_a, cast.org_a1, "ueb-01")
    return make_asset(appliance, "sql-01", type="sql")


@pytest.mark.parametrize("minutes, text", [
    (0, "0 minutes ago"), (1, "1 minute ago"), (59, "59 minutes ago"), (60, "1 hour ago"),
    (23 * 60, "23 hours ago"), (24 * 60, "1 day ago"), (6 * 1440, "6 days ago"), (7 * 1440, "1 week ago"),
    (29 * 1440, "4 weeks ago"), (30 * 1440, "1 month ago"), (400 * 1440, "13 months ago"),
])
def test_r12_1_the_last_backup_age_uses_the_largest_unit_that_fits(minutes, text):
    assert age(NOW - timedelta(minutes=minutes), NOW) == text


def test_r12_1_the_detail_has_type_name_sizes_last_backup_copy_and_certification(cast, asset):
    now = timezone.now()
    full = backup(asset, "1", now - timedelta(days=3), type_="full", size=7 * 1024**3, certified_at=now - timedelta(days=2))
    backup(asset, "2", now - timedelta(days=2), type_="full", status="failed", size=0)
    last = backup(asset, "3", now - timedelta(hours=5))
    copy(asset, full, "hot", now - timedelta(days=3) + timedelta(hours=1))
    copy(asset, last, "cold", now - timedelta(hours=4))
    backup(asset, "4", now - timedelta(minutes=5), status="running")

    body = api_client(cast.monitor_a).get(f"/api/v1/assets/{asset.pk}/").json()

    assert (body["name"], body["type"], body["type_label"]) == ("sql-01", "sql", "SQL Server database")
    assert "application-aware" in body["type_description"]
    assert body["last_full_backup_size_bytes"] == 7 * 1024**3  # the failed full does not count
    assert body["last_local_backup"]["id"] == last.pk and body["last_local_backup"]["age"] == "4 hours ago"
    assert body["last_backup_copy"]["target"] == "cold" and "tape" in body["last_backup_copy"]["target_label"]
    assert parse_datetime(body["last_certified_at"]) == full.certified_at
    assert set(body["legend"]) == {"success", "warning", "failed", "cancelled", "running"}


def test_r12_1_an_asset_with_no_copy_shows_none_and_another_account_gets_404(cast, asset):
    body = api_client(cast.admin_a).get(f"/api/v1/assets/{asset.pk}/").json()
    assert body["last_backup_copy"] is None and body["last_local_backup"] is None
    assert api_client(cast.superuser_b).get(f"/api/v1/assets/{asset.pk}/").status_code == 404  # R1.1
    assert api_client(cast.superuser_b).get(f"/api/v1/assets/{asset.pk}/recovery-points/").status_code == 404


def test_r12_1_recovery_points_are_backups_and_copies_newest_first_paged_without_gaps(cast, asset):
    expected = []
    for n in range(7):
        at = NOW - timedelta(days=n)
        b = backup(asset, f"b{n}", at, status="failed" if n == 3 else "success")
        expected.append(f"backup-{b.pk}")
        if n % 2 == 0:
            c = copy(asset, b, "hot", at)  # same start as its backup: the backup comes first
            expected.append(f"copy-{c.pk}")
    client = api_client(cast.monitor_a)
    seen, url = [], f"/api/v1/assets/{asset.pk}/recovery-points/?page_size=3"
    while url:
        body = client.get(url).json()
        assert len(body["results"]) <= 3
        seen += [p["id"] for p in body["results"]]
        url = body["next"]
    assert seen == expected
    first = client.get(f"/api/v1/assets/{asset.pk}/recovery-points/").json()["results"][0]
    assert (first["kind"], first["status"], first["type"]) == ("backup", "success", "incremental")


def test_r12_1_a_bad_cursor_or_page_size_is_refused_naming_the_field(cast, asset):
    client = api_client(cast.monitor_a)
    response = client.get(f"/api/v1/assets/{asset.pk}/recovery-points/?cursor=nonsense")
    assert response.status_code == 400 and "cursor" in response.json()["errors"]
    response = client.get(f"/api/v1/assets/{asset.pk}/recovery-points/?page_size=0")
    assert response.status_code == 400 and "page_size" in response.json()["errors"]


def test_r1_4_a_limited_admin_cannot_open_an_asset_outside_their_organizations(cast, asset):
    assert api_client(cast.scoped_admin_a).get(f"/api/v1/assets/{asset.pk}/").status_code == 404
