"""Datto Backup for Microsoft Azure (R9) end to end: real client → fake Datto Portal over HTTP → poller → rules."""

import logging
from datetime import UTC, datetime, timedelta

import pytest

from alerts.evaluation import evaluate
from alerts.models import Alert
from fakes.datto import asset
from integrations.mapping import remap
from integrations.models import Integration
from integrations.pollers import poll
from inventory.models import AzureAsset, DattoClient, SyncHealth
from tenancy.models import Organization
from thresholds.models import CustomThreshold, GlobalThreshold, ThresholdAssignment

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def datto(datto_fake):
    fake = datto_fake
    fake.clients = [{"id": 11, "name": "ACME"}, {"id": 12, "name": "Zeta Corp"}]
    fake.assets = {
        "11": [asset("vm-1", "acme-web", end=iso(NOW - timedelta(hours=2))),
               asset("vm-2", "acme-sql", status="Failed", end=iso(NOW - timedelta(hours=3)))],
        "12": [asset("vm-3", "zeta-app", end=iso(NOW - timedelta(hours=30)), module="Zeta subscription")],
    }
    yield fake


@pytest.fixture
def integration(cast, datto):
    return Integration.objects.create(
        account=cast.account_a, kind="datto", name="Datto", base_url=datto.url + "/v1",
        credentials={"public_key": datto.username, "secret_key": datto.secret},
    )


def open_alerts(account, kind):
    return list(Alert.objects.filter(account=account, kind=kind, state="open").order_by("subject"))


def test_r9_1_adding_the_integration_maps_each_client_by_name_or_to_a_new_organization(cast, integration):
    assert "failed" not in poll(integration, NOW)
    acme = DattoClient.objects.get(name="ACME")
    zeta = DattoClient.objects.get(name="Zeta Corp")
    assert acme.organization == cast.org_a1  # "Acme" exists: same name, any case
    assert zeta.organization.name == "Zeta Corp" and zeta.organization.account == cast.account_a
    assert set(AzureAsset.objects.filter(client_external_id="11").values_list("organization", flat=True)) == {cast.org_a1.pk}
    assert not Organization.objects.filter(account=cast.account_b, name="Zeta Corp").exists()


def test_r9_1_a_changed_mapping_survives_the_next_poll_and_moves_the_assets(cast, integration):
    poll(integration, NOW)
    acme = DattoClient.objects.get(name="ACME")
    remap(acme, cast.org_a2)
    poll(integration, NOW + timedelta(hours=1))
    acme.refresh_from_db()
    assert acme.organization == cast.org_a2
    assert set(AzureAsset.objects.filter(client_external_id="11").values_list("organization", flat=True)) == {cast.org_a2.pk}


@pytest.mark.slow
def test_r9_2_a_quota_429_raises_one_integration_alert_and_the_next_good_sync_resolves_it(cast, datto, integration):
    datto.quota(times=100)  # every try is refused, after the client's own retries
    for minutes in (0, 60):
        assert "failed" in poll(integration, NOW + timedelta(minutes=minutes))
    alerts = open_alerts(cast.account_a, "dbma_integration")
    assert len(alerts) == 1
    assert alerts[0].details["reason"] == "quota" and alerts[0].details["integration_alert"] is True
    assert alerts[0].organization_id is None
    integration.refresh_from_db()
    assert integration.last_sync_ok is False and "429" in integration.last_error
    datto.quota(times=0)
    assert "failed" not in poll(integration, NOW + timedelta(hours=3))
    assert open_alerts(cast.account_a, "dbma_integration") == []
    assert Alert.objects.get(kind="dbma_integration").resolved_at == NOW + timedelta(hours=3)


def test_r9_2_the_client_retries_a_429_honouring_retry_after_before_giving_up(cast, datto, integration):
    datto.quota(times=1)  # one refusal: the retry succeeds, no alert
    assert "failed" not in poll(integration, NOW)
    assert open_alerts(cast.account_a, "dbma_integration") == []
    assert [r.query.get("_page") for r in datto.requests[:2]] == ["1", "1"]


def test_r9_2_invalid_credentials_raise_their_own_alert_kept_until_a_successful_sync(cast, datto, integration):
    datto.unauthorized()
    poll(integration, NOW)
    datto.unauthorized(False).server_error(times=100)  # a 503 is not a successful sync
    poll(integration, NOW + timedelta(hours=1))
    [alert] = open_alerts(cast.account_a, "dbma_integration")
    assert alert.details["reason"] == "invalid_credentials"
    assert alert.subject == f"integration:{integration.pk}:invalid_credentials"
    assert datto.secret not in str(alert.details) and datto.secret not in alert.title
    datto.server_error(0)
    poll(integration, NOW + timedelta(hours=2))
    assert open_alerts(cast.account_a, "dbma_integration") == []


def test_r9_2_one_alert_per_integration_and_reason(cast, datto, integration):
    datto.unauthorized()
    poll(integration, NOW)
    datto.unauthorized(False).quota(times=100)
    poll(integration, NOW + timedelta(hours=1))
    reasons = sorted(a.details["reason"] for a in open_alerts(cast.account_a, "dbma_integration"))
    assert reasons == ["invalid_credentials", "quota"]


def test_r9_2_a_failed_poll_leaves_the_previous_data_intact(cast, datto, integration):
    poll(integration, NOW)
    before = sorted(AzureAsset.objects.values_list("external_id", "last_successful_backup_at"))
    datto.garbage()
    assert "failed" in poll(integration, NOW + timedelta(hours=1))
    assert sorted(AzureAsset.objects.values_list("external_id", "last_successful_backup_at")) == before
    integration.refresh_from_db()
    assert "not JSON" in integration.last_error
    assert open_alerts(cast.account_a, "dbma_integration") == []  # garbage is no credentials/quota problem


def test_r9_3_an_asset_without_a_successful_backup_in_the_global_azure_hours_alerts(cast, integration):
    poll(integration, NOW)
    names = [a.details["asset"] for a in open_alerts(cast.account_a, "dbma_backup")]
    # acme-web succeeded 2 h ago; acme-sql has never succeeded; zeta-app succeeded 30 h ago (> 24 h default).
    assert sorted(names) == ["acme-sql", "zeta-app"]
    assert all(a.details["threshold_hours"] == 24 and a.details["threshold"] == "default"
               for a in open_alerts(cast.account_a, "dbma_backup"))


def test_r9_3_the_global_azure_threshold_and_a_custom_one_for_the_organization_apply(cast, integration):
    GlobalThreshold.objects.create(account=cast.account_a, azure_hours=36)
    poll(integration, NOW)
    assert [a.details["asset"] for a in open_alerts(cast.account_a, "dbma_backup")] == ["acme-sql"]
    custom = CustomThreshold.objects.create(account=cast.account_a, name="Tight", azure_hours=1)
    ThresholdAssignment.objects.create(threshold=custom, organization=cast.org_a1)
    evaluate(cast.account_a, NOW + timedelta(minutes=5))
    names = sorted(a.details["asset"] for a in open_alerts(cast.account_a, "dbma_backup"))
    assert names == ["acme-sql", "acme-web"]  # acme-web's 2 h > 1 h for Acme; zeta keeps 36 h
    assert {a.details["threshold"] for a in open_alerts(cast.account_a, "dbma_backup")} == {"custom threshold 'Tight'"}


def test_r9_3_an_unmapped_client_raises_nothing_and_a_successful_backup_resolves(cast, datto, integration):
    poll(integration, NOW)
    zeta = DattoClient.objects.get(name="Zeta Corp")
    remap(zeta, None)
    evaluate(cast.account_a, NOW + timedelta(minutes=1))
    assert [a.details["asset"] for a in open_alerts(cast.account_a, "dbma_backup")] == ["acme-sql"]
    datto.assets["11"][1] = asset("vm-2", "acme-sql", status="Succeeded", end=iso(NOW + timedelta(minutes=30)))
    poll(integration, NOW + timedelta(hours=1))
    assert open_alerts(cast.account_a, "dbma_backup") == []
    assert Alert.objects.get(details__asset="acme-sql").resolved_at == NOW + timedelta(hours=1)


def test_r9_4_backup_alerts_are_grouped_by_module_and_organization_with_links(cast, integration):
    poll(integration, NOW)
    sql, zeta = open_alerts(cast.account_a, "dbma_backup")
    sql_asset = AzureAsset.objects.get(external_id="vm-2")
    assert sql.group_key == f"{cast.org_a1.pk}:dbma_backup:Production subscription"
    assert sql.group_label == "Acme — Production subscription"
    assert zeta.group_label == "Zeta Corp — Zeta subscription"
    assert sql.links["organization"].endswith(f"/alerts/?organization={cast.org_a1.pk}")
    assert sql.links["module"] == "https://portal.dattobackup.com"
    assert sql.links["asset"].endswith(f"/protect/azure/#azure-asset-{sql_asset.pk}")


def test_r9_datto_pages_are_read_to_the_end(cast, datto, integration):
    datto.assets["11"] = [asset(f"bulk-{i}", f"bulk-{i}", end=iso(NOW)) for i in range(230)]
    poll(integration, NOW)
    assert AzureAsset.objects.filter(client_external_id="11").count() == 230
    pages = [r.query["_page"] for r in datto.requests if r.path.endswith("/11/assets")]
    assert pages == ["1", "2", "3"]


def test_r9_bad_asset_rows_are_logged_and_skipped_never_a_wrong_alert(cast, datto, integration, caplog):
    datto.assets["11"] = [
        {"name": "no-id"},
        asset("vm-odd", "odd-status", status="Exploded"),
        {"assetId": "vm-bad-time", "name": "bad-time", "lastBackup": {"status": "Succeeded", "endTime": "yesterday"}},
        asset("vm-1", "acme-web", end=iso(NOW - timedelta(hours=2))),
    ]
    datto.clients.append({"id": None, "name": "no id"})
    with caplog.at_level(logging.WARNING, logger="integrations.datto"):
        assert "failed" not in poll(integration, NOW)
    assert sorted(AzureAsset.objects.filter(client_external_id="11").values_list("name", flat=True)) == ["acme-web"]
    assert len([r for r in caplog.records if "skipped" in r.getMessage()]) == 4
    assert [a.details["asset"] for a in open_alerts(cast.account_a, "dbma_backup")] == ["zeta-app"]


def test_r9_sync_health_records_why_and_clears_on_success(cast, datto, integration):
    datto.quota(times=100)
    poll(integration, NOW)
    health = SyncHealth.objects.get(integration_id=integration.pk)
    assert health.open_reasons == ["quota"] and "429" in health.last_error
    datto.quota(times=0)
    poll(integration, NOW + timedelta(hours=1))
    health.refresh_from_db()
    assert health.open_reasons == [] and health.last_error == ""


def test_r9_2_an_integration_alert_is_emailed_and_marked_so_no_psa_ticket_opens(cast, datto, integration):
    from notifications.models import Delivery

    datto.unauthorized()
    poll(integration, NOW)
    alert = Alert.objects.get(kind="dbma_integration")
    channels = set(Delivery.objects.filter(event__alert=alert).values_list("channel", flat=True))
    assert "email" in channels
    assert alert.kind == "dbma_integration" and alert.details["integration_alert"] is True  # the PSA skips this kind


@pytest.mark.slow
def test_removing_the_integration_resolves_what_it_raised(cast, datto, integration):
    datto.quota(times=100)
    poll(integration, NOW)
    datto.quota(times=0)
    assert "failed" not in poll(integration, NOW + timedelta(hours=1))
    datto.quota(times=100)
    poll(integration, NOW + timedelta(hours=2))
    assert open_alerts(cast.account_a, "dbma_integration") and open_alerts(cast.account_a, "dbma_backup")
    integration.delete()
    evaluate(cast.account_a, NOW + timedelta(hours=3))
    assert not Alert.objects.filter(account=cast.account_a, kind__startswith="dbma", state="open").exists()
    assert not AzureAsset.objects.exists() and not SyncHealth.objects.exists()


def test_r9_2_a_403_counts_as_invalid_credentials(cast, datto, integration):
    datto.forbidden()
    poll(integration, NOW)
    assert [a.details["reason"] for a in open_alerts(cast.account_a, "dbma_integration")] == ["invalid_credentials"]


def test_r14_2_polling_twice_changes_nothing_the_second_time(cast, integration):
    poll(integration, NOW)
    before = (AzureAsset.objects.count(), DattoClient.objects.count(), Organization.objects.count(),
              sorted(Alert.objects.values_list("fingerprint", "state")))
    poll(integration, NOW)
    after = (AzureAsset.objects.count(), DattoClient.objects.count(), Organization.objects.count(),
             sorted(Alert.objects.values_list("fingerprint", "state")))
    assert before == after and before[0] == 3
