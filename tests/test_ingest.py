"""POST /api/v1/ingest/backups/: idempotent on the source's ids, all or nothing, 400 naming the field."""

import pytest

from inventory.models import Backup, BackupCopy
from tenancy.models import TokenScope
from tests.conftest import api_client, make_appliance, make_asset


@pytest.fixture
def asset(cast):
    appliance = make_appliance(cast.account_a, cast.org_a1, "ueb-1")
    return make_asset(appliance, "sql-01")


def item(**overrides):
    value = {
        "appliance": "ueb-1", "asset": "sql-01", "external_id": "b-1", "kind": "backup", "type": "full",
        "status": "success", "started_at": "2026-11-01T22:00:00+00:00", "finished_at": "2026-11-01T22:40:00+00:00",
        "size_bytes": 1024, "error": "",
    }
    value.update(overrides)
    return value


def post(cast, payload, scope=TokenScope.INGEST):
    return api_client(cast.superuser_a, scope).post("/api/v1/ingest/backups/", payload, format="json")


def test_it_creates_backups_and_copies_and_answers_counts(cast, asset):
    payload = [
        item(),
        item(external_id="c-1", kind="hot_copy", of_backup="b-1", started_at="2026-11-01T22:45:00+00:00",
             finished_at="2026-11-01T23:10:00+00:00"),
        item(external_id="c-2", kind="cold_copy", of_backup="b-1", status="failed", error="tape offline"),
    ]
    response = post(cast, payload)
    assert response.status_code == 200, response.json()
    assert response.json() == {"created": 3, "updated": 0, "unchanged": 0}
    backup = Backup.objects.get()
    assert (backup.asset, backup.status, backup.size_bytes) == (asset, "success", 1024)
    assert sorted(BackupCopy.objects.values_list("target", "status")) == [("cold", "failed"), ("hot", "success")]
    assert set(BackupCopy.objects.values_list("backup_id", flat=True)) == {backup.pk}


def test_posting_the_same_records_twice_changes_nothing_the_second_time(cast, asset):
    payload = [item(), item(external_id="c-1", kind="hot_copy", of_backup="b-1")]
    post(cast, payload)
    ids = list(Backup.objects.values_list("pk", flat=True))
    response = post(cast, payload)
    assert response.json() == {"created": 0, "updated": 0, "unchanged": 2}
    assert list(Backup.objects.values_list("pk", flat=True)) == ids
    assert BackupCopy.objects.count() == 1


def test_a_changed_record_is_updated_in_place(cast, asset):
    post(cast, [item(status="running", finished_at=None)])
    response = post(cast, [item(status="failed", error="VSS failed")])
    assert response.json() == {"created": 0, "updated": 1, "unchanged": 0}
    assert Backup.objects.get().status == "failed"


def test_a_copy_may_name_a_backup_from_an_earlier_request(cast, asset):
    post(cast, [item()])
    assert post(cast, [item(external_id="c-1", kind="hot_copy", of_backup="b-1")]).json()["created"] == 1


@pytest.mark.parametrize(("bad", "field"), [
    ({"status": "great"}, "1.status"),
    ({"started_at": "yesterday"}, "1.started_at"),
    ({"started_at": "2026-11-01T22:00:00"}, "1.started_at"),  # no offset
    ({"external_id": None}, "1.external_id"),
    ({"kind": "lukewarm_copy"}, "1.kind"),
    ({"size_bytes": -5}, "1.size_bytes"),
    ({"type": "weekly"}, "1.type"),
    ({"kind": "hot_copy"}, "1.of_backup"),
    ({"appliance": "nope"}, "1.appliance"),
    ({"asset": "nope"}, "1.asset"),
    ({"kind": "hot_copy", "of_backup": "missing"}, "1.of_backup"),
    ({"finished_at": "2026-11-01T21:00:00+00:00"}, "1.finished_at"),
])
def test_one_bad_item_is_400_naming_item_and_field_and_nothing_is_written(cast, asset, bad, field):
    response = post(cast, [item(external_id="good"), item(**{"external_id": "bad", **bad})])
    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()
    assert not Backup.objects.exists() and not BackupCopy.objects.exists()


def test_a_body_that_is_not_a_list_or_too_long_is_400(cast, asset):
    assert "items" in post(cast, {"oops": 1}).json()["errors"]
    assert "items" in post(cast, [item(external_id=str(i)) for i in range(5001)]).json()["errors"]


def test_another_accounts_appliance_ids_are_unknown_here(cast, asset):
    b_appliance = make_appliance(cast.account_b, cast.org_b1, "b-ueb")
    make_asset(b_appliance, "b-sql")
    response = post(cast, [item(appliance="b-ueb", asset="b-sql")])
    assert response.status_code == 400 and "0.appliance" in response.json()["errors"]
    assert not Backup.objects.exists()


def test_ingest_needs_the_ingest_scope_or_a_superuser(cast, asset):
    assert api_client(cast.admin_a).post("/api/v1/ingest/backups/", [item()], format="json").status_code == 403
    assert api_client(cast.superuser_a).post("/api/v1/ingest/backups/", [item()], format="json").status_code == 200


def test_partial_mode_lands_the_good_items_and_reports_the_bad_by_index_and_field(cast, asset):
    payload = [
        item(external_id="b-1"),
        item(external_id="b-2", status="great"),
        item(external_id="b-3", asset="nope"),
        item(external_id="c-1", kind="hot_copy", of_backup="b-1"),
        item(external_id="c-2", kind="hot_copy", of_backup="b-2"),  # its backup was refused
        item(external_id="b-4", started_at="2026-11-02T22:00:00+00:00", finished_at=None, status="running"),
    ]
    response = api_client(cast.superuser_a, TokenScope.INGEST).post(
        "/api/v1/ingest/backups/?partial=true", payload, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["updated"]) == (3, 0)
    assert set(body["errors"]) == {"1.status", "2.asset", "4.of_backup"}
    assert sorted(Backup.objects.values_list("external_id", flat=True)) == ["b-1", "b-4"]
    assert list(BackupCopy.objects.values_list("external_id", flat=True)) == ["c-1"]
