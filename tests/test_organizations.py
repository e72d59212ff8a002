"""Organizations (issue 8): the list with open alerts per kind and a search, create, rename,
delete with confirmation, and each organization's page — all under the scope rule (R1.4)."""

from alerts.evaluation import evaluate
from alerts.models import Alert
from tenancy.models import Organization
from tests.conftest import NOW, api_client, make_appliance, make_asset
from thresholds.models import CustomThreshold, GlobalThreshold, ThresholdAssignment

THRESHOLD = {"backups_enabled": True, "backups_hours": 24, "hot_copy_enabled": True, "hot_copy_hours": 48, "azure_hours": 24}


def test_r1_4_the_list_counts_open_alerts_per_kind(cast, offline_appliances, client):
    evaluate(cast.account_a, NOW)
    client.force_login(cast.admin_a)
    page = client.get("/organizations/")
    totals = {row["org"].name: row["total"] for row in page.context["table"]}
    assert totals == {"Acme": 1, "Birch": 1}
    assert page.context["total"] == 2
    assert "appliance_offline" in dict(page.context["kinds"])


def test_r1_4_a_scoped_admins_alert_counts_exclude_other_organizations(cast, offline_appliances, client):
    evaluate(cast.account_a, NOW)
    client.force_login(cast.scoped_admin_a)
    page = client.get("/organizations/")
    assert [row["org"].name for row in page.context["table"]] == ["Birch"]
    assert page.context["total"] == 1
    assert "Acme" not in page.content.decode()
    orgs = api_client(cast.scoped_admin_a).get("/api/v1/organizations/").json()["results"]
    assert [(o["name"], o["open_alerts"]["total"]) for o in orgs] == [("Birch", 1)]
    assert orgs[0]["open_alerts"]["by_kind"] == {"appliance_offline": 1}


def test_the_list_searches_by_name(cast, client):
    client.force_login(cast.superuser_a)
    assert [row["org"].name for row in client.get("/organizations/?q=bir").context["table"]] == ["Birch"]
    found = api_client(cast.superuser_a).get("/api/v1/organizations/?search=acm").json()["results"]
    assert [o["id"] for o in found] == [cast.org_a1.pk]  # R1.1: B's "Acme" is not found


def test_r1_3_a_superuser_creates_and_renames_an_organization(cast, client):
    client.force_login(cast.superuser_a)
    response = client.post("/organizations/", {"name": "Cedar"})
    cedar = Organization.objects.get(account=cast.account_a, name="Cedar")
    assert response.url == f"/organizations/{cedar.pk}/"
    client.post(f"/organizations/{cedar.pk}/rename/", {"name": "Cedar Ltd"})
    cedar.refresh_from_db()
    assert cedar.name == "Cedar Ltd"
    clash = client.post(f"/organizations/{cedar.pk}/rename/", {"name": "acme"}, follow=True)
    assert "exists" in clash.content.decode()
    cedar.refresh_from_db()
    assert cedar.name == "Cedar Ltd"


def test_r1_3_a_duplicate_or_empty_name_is_a_form_error(cast, client):
    client.force_login(cast.superuser_a)
    assert "exists" in client.post("/organizations/", {"name": "Birch"}).content.decode()
    assert "required" in client.post("/organizations/", {"name": "  "}).content.decode()
    assert Organization.objects.filter(account=cast.account_a).count() == 2


def test_r1_3_only_a_superuser_creates_renames_or_deletes(cast, client):
    client.force_login(cast.admin_a)
    assert client.post("/organizations/", {"name": "Cedar"}).status_code == 403
    assert client.post(f"/organizations/{cast.org_a1.pk}/rename/", {"name": "X"}).status_code == 403
    assert client.post(f"/organizations/{cast.org_a1.pk}/delete/").status_code == 403
    assert api_client(cast.admin_a).delete(f"/api/v1/organizations/{cast.org_a1.pk}/").status_code == 403
    assert Organization.objects.filter(account=cast.account_a).count() == 2


def test_deleting_an_organization_with_appliances_asks_and_says_what_goes_with_it(cast, client):
    appliance = make_appliance(cast.account_a, cast.org_a1)
    make_asset(appliance)
    client.force_login(cast.superuser_a)
    confirm = client.get(f"/organizations/{cast.org_a1.pk}/delete/").content.decode()
    assert "still has appliances" in confirm and "1 appliance(s), 1 asset(s)" in confirm

    api = api_client(cast.superuser_a)
    refused = api.delete(f"/api/v1/organizations/{cast.org_a1.pk}/")
    assert refused.status_code == 400 and "1 appliance(s)" in refused.json()["errors"]["confirm"][0]
    assert Organization.objects.filter(pk=cast.org_a1.pk).exists()
    assert api.delete(f"/api/v1/organizations/{cast.org_a1.pk}/?confirm=true").status_code == 204
    assert not Organization.objects.filter(pk=cast.org_a1.pk).exists()
    # An empty organization needs no confirmation.
    assert api.delete(f"/api/v1/organizations/{cast.org_a2.pk}/").status_code == 204


def test_deleting_from_the_dashboard(cast, client):
    client.force_login(cast.superuser_a)
    assert client.post(f"/organizations/{cast.org_a2.pk}/delete/").url == "/organizations/"
    assert not Organization.objects.filter(pk=cast.org_a2.pk).exists()


def test_the_organization_page_shows_inventory_threshold_psa_company_and_recent_alerts(cast, client):
    appliance = make_appliance(cast.account_a, cast.org_a1, "acme-ueb", last_contact_at=None)
    make_asset(appliance, "acme-sql")
    GlobalThreshold.objects.create(account=cast.account_a, **THRESHOLD)
    api_client(cast.superuser_a).patch(f"/api/v1/organizations/{cast.org_a1.pk}/", {"psa_company": "ACME-42"}, format="json")
    Alert.objects.create(
        account=cast.account_a, organization=cast.org_a1, fingerprint="f1", kind="appliance_offline",
        subject="acme-ueb", title="acme-ueb is offline", group_key="g", group_label="g", raised_at=NOW,
    )
    client.force_login(cast.monitor_a)
    page = client.get(f"/organizations/{cast.org_a1.pk}/").content.decode()
    assert "acme-ueb" in page and "acme-sql" in page
    assert "PSA company" in page and "ACME-42" in page
    assert "acme-ueb is offline" in page
    assert "24 h — global" in page

    custom = CustomThreshold.objects.create(account=cast.account_a, name="Servers", **{**THRESHOLD, "backups_hours": 4})
    ThresholdAssignment.objects.create(threshold=custom, organization=cast.org_a1)
    assert "4 h — custom threshold &#x27;Servers&#x27;" in client.get(f"/organizations/{cast.org_a1.pk}/").content.decode()


def test_r1_1_and_r1_4_an_organization_out_of_reach_is_404(cast, client):
    client.force_login(cast.superuser_a)
    assert client.get(f"/organizations/{cast.org_b1.pk}/").status_code == 404
    assert client.post(f"/organizations/{cast.org_b1.pk}/delete/").status_code == 404
    client.force_login(cast.scoped_admin_a)
    assert client.get(f"/organizations/{cast.org_a1.pk}/").status_code == 404
    assert client.get(f"/organizations/{cast.org_a2.pk}/").status_code == 200


def test_r18_3_the_monthly_report_contact_is_set_in_the_organization_form_and_shown(cast, client):
    client.force_login(cast.superuser_a)
    response = client.post(f"/organizations/{cast.org_a1.pk}/rename/",
                           {"name": "Acme", "report_contact": "cfo@acme.example"})
    assert response.status_code == 302
    cast.org_a1.refresh_from_db()
    assert cast.org_a1.report_contact == "cfo@acme.example"
    page = client.get(f"/organizations/{cast.org_a1.pk}/").content.decode()
    assert 'data-testid="report-contact">cfo@acme.example<' in page
    assert 'name="report_contact" id="id_report_contact" value="cfo@acme.example"' in page

    client.post(f"/organizations/{cast.org_a1.pk}/rename/", {"name": "Acme", "report_contact": ""})
    cast.org_a1.refresh_from_db()
    assert cast.org_a1.report_contact == ""


def test_r18_3_a_contact_sent_alone_leaves_the_name_as_it_is(cast, client):
    """An edit leaves what the form did not send (a script posting only the contact)."""
    client.force_login(cast.superuser_a)
    response = client.post(f"/organizations/{cast.org_a1.pk}/rename/", {"report_contact": "cfo@acme.example"})
    assert response.status_code == 302
    cast.org_a1.refresh_from_db()
    assert (cast.org_a1.name, cast.org_a1.report_contact) == ("Acme", "cfo@acme.example")


def test_r18_3_a_bad_report_contact_is_a_form_error_naming_the_field_and_nothing_is_saved(cast, client):
    cast.org_a1.report_contact = "it@acme.example"
    cast.org_a1.save()
    client.force_login(cast.superuser_a)
    response = client.post(f"/organizations/{cast.org_a1.pk}/rename/",
                           {"name": "Acme Renamed", "report_contact": "nobody at acme"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Monthly report contact: Must be an email address" in page
    assert 'value="nobody at acme"' in page  # what was typed comes back to be corrected
    cast.org_a1.refresh_from_db()
    assert (cast.org_a1.name, cast.org_a1.report_contact) == ("Acme", "it@acme.example")


def test_r18_3_only_a_superuser_sets_the_report_contact(cast, client):
    client.force_login(cast.admin_a)
    response = client.post(f"/organizations/{cast.org_a1.pk}/rename/", {"name": "Acme", "report_contact": "x@y.example"})
    assert response.status_code == 403
    cast.org_a1.refresh_from_db()
    assert cast.org_a1.report_contact == ""
