"""Issue 7: the audit log — who changed thresholds, settings, integrations, mappings, and who dismissed what."""

import pytest

from alerts.evaluation import evaluate
from alerts.models import Alert
from audit.models import AuditEntry
from integrations.models import Integration
from inventory.models import SaasSource
from tenancy.models import Membership
from tests.conftest import NOW, api_client

THRESHOLD = {"backups_enabled": True, "backups_hours": 30, "hot_copy_enabled": False, "hot_copy_hours": 24,
             "azure_hours": 24}


@pytest.fixture(autouse=True)
def fresh_log(cast):
    """The cast's own set-up (accounts, members, settings) is logged as 'system'; start from empty."""
    AuditEntry.objects.all().delete()


def test_setting_up_an_account_outside_a_request_is_logged_as_system(cast):
    from tenancy.accounts import add_member, create_account
    from tenancy.models import Organization, Role

    account = create_account("MSP C")
    Organization.objects.create(account=account, name="Dune")
    add_member(account, "first@c.example", None, Role.SUPERUSER)
    actions = {e.action: e.actor_label for e in entries(account)}
    assert actions["organization.create"] == "system" and actions["membership.create"] == "system"


def entries(account, action_prefix=""):
    return list(AuditEntry.objects.filter(account=account, action__startswith=action_prefix).order_by("id"))


def test_a_global_threshold_change_records_who_and_what_changed(cast):
    client = api_client(cast.superuser_a)
    assert client.put("/api/v1/thresholds/global/", THRESHOLD, format="json").status_code == 200
    assert client.put("/api/v1/thresholds/global/", {**THRESHOLD, "backups_hours": 48}, format="json").status_code == 200
    created, updated = entries(cast.account_a, "threshold.global")
    assert created.action == "threshold.global.create" and created.actor == cast.superuser_a
    assert updated.action == "threshold.global.update"
    assert updated.changes == {"backups_hours": [30, 48]}
    assert updated.actor_label == "super@a.example"
    assert not entries(cast.account_b)


def test_saving_without_a_change_writes_nothing(cast):
    client = api_client(cast.superuser_a)
    client.put("/api/v1/thresholds/global/", THRESHOLD, format="json")
    client.put("/api/v1/thresholds/global/", THRESHOLD, format="json")
    assert len(entries(cast.account_a, "threshold.global")) == 1


def test_alert_settings_changes_are_recorded(cast):
    response = api_client(cast.superuser_a).patch("/api/v1/settings/alerts/", {"realert_hours": 6}, format="json")
    assert response.status_code == 200
    (entry,) = entries(cast.account_a, "alert_settings")
    assert entry.action == "alert_settings.update" and entry.changes == {"realert_hours": [24, 6]}


def test_integrations_are_recorded_and_credentials_never_are(cast):
    client = api_client(cast.superuser_a)
    response = client.post("/api/v1/integrations/", {
        "kind": "datto", "name": "Datto", "base_url": "http://127.0.0.1:9/",
        "credentials": {"public_key": "pk-visible", "secret_key": "s3cret-value-xyz"},
    }, format="json")
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    client.patch(f"/api/v1/integrations/{pk}/", {"credentials": {"secret_key": "n3w-s3cret-abc"}, "name": "Datto EU"},
                 format="json")
    client.delete(f"/api/v1/integrations/{pk}/")
    created, updated, deleted = entries(cast.account_a, "integration")
    assert created.changes["credentials"] == "set" and created.changes["name"] == [None, "Datto"]
    assert updated.changes == {"name": ["Datto", "Datto EU"], "credentials": "changed"}
    assert deleted.action == "integration.delete" and deleted.target_id == str(pk)
    everything = str(list(AuditEntry.objects.values()))
    for secret in ("s3cret-value-xyz", "n3w-s3cret-abc", "pk-visible", "****"):
        assert secret not in everything


def test_a_poll_result_is_not_a_change_by_a_person(cast):
    integration = Integration.objects.create(account=cast.account_a, kind="datto", name="Datto")
    AuditEntry.objects.all().delete()
    integration.last_sync_ok = False
    integration.last_error = "quota"
    integration.save()
    assert not entries(cast.account_a)


def test_organization_mappings_and_organizations_are_recorded(cast):
    source = SaasSource.objects.create(account=cast.account_a, kind="m365", external_id="t-1", name="Contoso")
    assert not entries(cast.account_a, "mapping")  # created by a poll: not a mapping yet
    client = api_client(cast.superuser_a)
    response = client.patch(f"/api/v1/saas-sources/{source.pk}/", {"organization": cast.org_a1.pk}, format="json")
    assert response.status_code == 200, response.json()
    (mapping,) = entries(cast.account_a, "mapping")
    assert mapping.action == "mapping.saas_source.update"
    assert mapping.changes == {"organization": [None, cast.org_a1.pk]} and mapping.actor == cast.superuser_a
    client.post("/api/v1/organizations/", {"name": "Cedar"}, format="json")
    assert entries(cast.account_a, "organization.create")[0].target_label == "Cedar"


def test_a_limited_admins_organizations_are_recorded(cast):
    membership = Membership.objects.get(user=cast.admin_a)
    membership.organizations.add(cast.org_a1)
    (entry,) = entries(cast.account_a, "membership.organizations")
    assert entry.changes == {"organizations": {"added": [cast.org_a1.pk]}}


def test_a_dismissal_records_the_person_and_the_reason_once_per_action(cast, offline_appliances):
    evaluate(cast.account_a, NOW)
    alert = Alert.objects.filter(account=cast.account_a, state="open").first()
    client = api_client(cast.admin_a)
    assert client.post(f"/api/v1/alerts/{alert.pk}/dismiss/", {"reason": "maintenance window"},
                       format="json").status_code == 200
    assert client.post("/api/v1/alerts/dismiss/", {"all": True, "reason": "noise"}, format="json").status_code == 200
    one, everything = entries(cast.account_a, "alert.dismiss")
    assert one.actor == cast.admin_a and one.changes["reason"] == "maintenance window"
    assert one.target_id == str(alert.pk) and one.changes["count"] == 1
    assert everything.changes["count"] == len(everything.changes["alerts"]) >= 1
    assert everything.changes["reason"] == "noise"


def test_a_change_that_is_rolled_back_leaves_no_entry(cast):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        Integration.objects.create(account=cast.account_a, kind="datto", name="Gone")
        raise RuntimeError
    assert not entries(cast.account_a, "integration")


def test_the_api_shows_the_log_to_superusers_only_scoped_and_filtered(cast):
    client = api_client(cast.superuser_a)
    client.put("/api/v1/thresholds/global/", THRESHOLD, format="json")
    client.patch("/api/v1/settings/alerts/", {"realert_hours": 6}, format="json")
    api_client(cast.superuser_b).patch("/api/v1/settings/alerts/", {"realert_hours": 2}, format="json")
    body = client.get("/api/v1/audit/").json()
    assert [row["action"] for row in body["results"]] == ["alert_settings.update", "threshold.global.create"]
    assert "next" in body  # cursor-paged
    only = client.get("/api/v1/audit/?action=threshold").json()["results"]
    assert [row["action"] for row in only] == ["threshold.global.create"]
    assert client.get(f"/api/v1/audit/?actor={cast.superuser_b.pk}").json()["results"] == []
    other = AuditEntry.objects.get(account=cast.account_b)
    assert client.get(f"/api/v1/audit/{other.pk}/").status_code == 404
    for role in ("admin_a", "monitor_a"):
        assert api_client(getattr(cast, role)).get("/api/v1/audit/").status_code == 403


def test_the_dashboard_page_lists_entries_for_superusers_only(cast, client):
    api_client(cast.superuser_a).patch("/api/v1/settings/alerts/", {"realert_hours": 6}, format="json")
    api_client(cast.superuser_b).patch("/api/v1/settings/alerts/", {"realert_hours": 2}, format="json")
    client.force_login(cast.superuser_a)
    page = client.get("/audit/").content.decode()
    assert "alert_settings.update" in page and "super@a.example" in page and "super@b.example" not in page
    assert "Alert settings changed" in page and "<code>alert_settings.update</code>" not in page  # the action in words
    assert "realert hours: 24 → 6" in page and "realert_hours" not in page  # in words, not a dict
    assert "Audit log" in client.get("/alerts/").content.decode()  # the nav link
    assert "No changes recorded for this filter" in client.get("/audit/?action=threshold").content.decode()
    client.force_login(cast.admin_a)
    assert client.get("/audit/").status_code == 403
    assert 'href="/audit/"' not in client.get("/alerts/").content.decode()


def test_a_datto_client_remapped_on_the_protect_page_is_recorded(cast, client):
    from inventory.models import DattoClient

    datto = DattoClient.objects.create(account=cast.account_a, external_id="c-1", name="Contoso")
    client.force_login(cast.superuser_a)
    response = client.post(f"/protect/azure/clients/{datto.pk}/map/", {"organization": cast.org_a2.pk})
    assert response.status_code == 302
    (entry,) = entries(cast.account_a, "mapping.datto_client")
    assert entry.changes == {"organization": [None, cast.org_a2.pk]} and entry.actor == cast.superuser_a


def test_a_psa_company_mapping_is_recorded(cast):
    from notifications.models import PsaCompanyMapping

    mapping = PsaCompanyMapping.objects.create(account=cast.account_a, organization=cast.org_a1, company="4242")
    mapping.company = "77"
    mapping.save()
    created, updated = entries(cast.account_a, "mapping.psa_company")
    assert created.changes["company"] == [None, "4242"] and updated.changes == {"company": ["4242", "77"]}


def test_a_save_of_untracked_columns_costs_no_audit_query(cast, django_assert_num_queries):
    integration = Integration.objects.create(account=cast.account_a, kind="datto", name="Datto")
    integration.last_error = "quota"
    with django_assert_num_queries(1):  # the UPDATE alone
        integration.save(update_fields=["last_error"])


def test_an_audit_action_reads_as_words():
    from audit.templatetags.audit_tags import audit_action

    assert audit_action("alert_settings.update") == "Alert settings changed"
    assert audit_action("threshold.global.create") == "Threshold global created"
    assert audit_action("organization.delete") == "Organization removed"
    assert audit_action("psa.auto_map") == "Psa auto map"


@pytest.mark.django_db(transaction=True)
def test_an_account_removed_with_everything_in_it_leaves_no_audit_entry_behind(cast):
    """Removing an account removes its organizations, thresholds and integrations, whose removals
    are audited: those entries go with the account instead of breaking the removal at commit."""
    from thresholds.models import GlobalThreshold

    GlobalThreshold.objects.create(account=cast.account_a, backups_hours=24)
    Integration.objects.create(account=cast.account_a, kind="datto", name="Datto")
    kept = AuditEntry.objects.filter(account=cast.account_b).count()

    cast.account_a.delete()

    assert not AuditEntry.objects.filter(account_id=cast.account_a.pk).exists()
    assert AuditEntry.objects.filter(account=cast.account_b).count() == kept  # another account's: untouched
    assert cast.org_b1.__class__.objects.filter(pk=cast.org_b1.pk).exists()
