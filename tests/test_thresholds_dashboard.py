"""The conditional alarms page (R4, R1.3): superusers change thresholds, admins and monitors read."""

import re

import pytest
from django.test import Client

from tenancy.models import Organization
from thresholds.effective import effective_threshold
from thresholds.models import CustomThreshold, GlobalThreshold, ThresholdAssignment

FORM = {"backups_enabled": "on", "backups_hours": "24", "hot_copy_enabled": "on", "hot_copy_hours": "48", "azure_hours": "24"}


def browser(user):
    client = Client()
    client.force_login(user)
    return client


def test_r4_1_a_superuser_saves_the_global_thresholds_from_the_page(cast):
    client = browser(cast.superuser_a)
    page = client.get("/thresholds/").content.decode()
    assert "No global threshold yet" in page and "Save global thresholds" in page
    response = client.post("/thresholds/", {**FORM, "backups_hours": "12", "hot_copy_enabled": ""}, follow=True)
    assert "Global thresholds saved" in response.content.decode()
    threshold = GlobalThreshold.objects.get(account=cast.account_a)
    assert (threshold.backups_hours, threshold.hot_copy_enabled) == (12, False)


@pytest.mark.parametrize("value", ["0", "-1", "8761", "abc", ""])
def test_r4_5_bad_hours_show_a_form_error_naming_the_field_and_change_nothing(cast, value):
    GlobalThreshold.objects.create(account=cast.account_a, backups_hours=24)
    response = browser(cast.superuser_a).post("/thresholds/", {**FORM, "hot_copy_hours": value})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-testid="error-hot_copy_hours">Replication offsite hours:' in page
    assert "1 to 8760" in page
    assert GlobalThreshold.objects.get().hot_copy_hours == 48


@pytest.mark.parametrize("role", ["admin_a", "monitor_a"])
def test_r1_3_admins_and_monitors_see_the_page_read_only_and_get_403_on_every_write(cast, role):
    GlobalThreshold.objects.create(account=cast.account_a, backups_hours=24)
    threshold = CustomThreshold.objects.create(account=cast.account_a, name="Servers", backups_hours=4)
    client = browser(getattr(cast, role))
    page = client.get("/thresholds/").content.decode()
    assert "Read only" in page and "Servers" in page
    assert "Save global thresholds" not in page and "<fieldset disabled>" in page
    assert client.get(f"/thresholds/custom/{threshold.pk}/").status_code == 200
    assert client.post("/thresholds/", {**FORM, "backups_hours": "2"}).status_code == 403
    assert client.post("/thresholds/custom/new/", {**FORM, "name": "New"}).status_code == 403
    assert client.post(f"/thresholds/custom/{threshold.pk}/", {**FORM, "name": "Renamed"}).status_code == 403
    assert client.post(f"/thresholds/custom/{threshold.pk}/organizations/{cast.org_a1.pk}/", {"action": "assign"}).status_code == 403
    assert client.post(f"/thresholds/custom/{threshold.pk}/delete/").status_code == 403
    assert GlobalThreshold.objects.get().backups_hours == 24
    assert list(CustomThreshold.objects.values_list("name", flat=True)) == ["Servers"]
    assert not ThresholdAssignment.objects.exists()


def test_r4_2_a_superuser_creates_and_edits_a_custom_threshold(cast):
    client = browser(cast.superuser_a)
    response = client.post("/thresholds/custom/new/", {**FORM, "name": "Servers", "backups_hours": "4"})
    threshold = CustomThreshold.objects.get(account=cast.account_a)
    assert response.status_code == 302 and response["Location"] == f"/thresholds/custom/{threshold.pk}/"
    client.post(f"/thresholds/custom/{threshold.pk}/", {**FORM, "name": "Servers", "backups_hours": "6"})
    threshold.refresh_from_db()
    assert threshold.backups_hours == 6
    bad = client.post("/thresholds/custom/new/", {**FORM, "name": "servers"})
    assert bad.status_code == 400 and 'data-testid="error-name">Name:' in bad.content.decode()


def test_r4_3_assigned_organizations_come_first_and_the_search_narrows_the_list(cast):
    for name in ("Cedar", "Dune", "Elm"):
        Organization.objects.create(account=cast.account_a, name=name)
    threshold = CustomThreshold.objects.create(account=cast.account_a, name="Servers", backups_hours=4)
    elm = Organization.objects.get(name="Elm")
    client = browser(cast.superuser_a)
    listing = client.post(
        f"/thresholds/custom/{threshold.pk}/organizations/{elm.pk}/", {"action": "assign"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert effective_threshold(elm).name == "Servers"
    names = [n for n in ("Acme", "Birch", "Cedar", "Dune", "Elm") if n in listing]
    assert sorted(names, key=listing.index) == ["Elm", "Acme", "Birch", "Cedar", "Dune"]
    searched = client.get(f"/thresholds/custom/{threshold.pk}/organizations/?q=ced").content.decode()
    assert "Cedar" in searched and "Birch" not in searched
    client.post(f"/thresholds/custom/{threshold.pk}/organizations/{elm.pk}/", {"action": "unassign"})
    assert not ThresholdAssignment.objects.exists()


def test_r1_1_another_accounts_organization_or_threshold_is_404_on_the_page(cast):
    mine = CustomThreshold.objects.create(account=cast.account_a, name="Servers", backups_hours=4)
    theirs = CustomThreshold.objects.create(account=cast.account_b, name="Theirs", backups_hours=4)
    client = browser(cast.superuser_a)
    assert client.get(f"/thresholds/custom/{theirs.pk}/").status_code == 404
    assert client.post(f"/thresholds/custom/{theirs.pk}/delete/").status_code == 404
    assert client.post(f"/thresholds/custom/{mine.pk}/organizations/{cast.org_b1.pk}/", {"action": "assign"}).status_code == 404
    assert CustomThreshold.objects.count() == 2 and not ThresholdAssignment.objects.exists()


def test_r4_3_deleting_asks_for_confirmation_then_returns_organizations_to_global(cast):
    GlobalThreshold.objects.create(account=cast.account_a, backups_hours=24)
    threshold = CustomThreshold.objects.create(account=cast.account_a, name="Servers", backups_hours=4)
    ThresholdAssignment.objects.create(threshold=threshold, organization=cast.org_a1)
    client = browser(cast.superuser_a)
    confirm = client.get(f"/thresholds/custom/{threshold.pk}/delete/").content.decode()
    assert "Its 1 organization will use the global threshold again" in confirm
    assert CustomThreshold.objects.exists()
    client.post(f"/thresholds/custom/{threshold.pk}/delete/")
    assert not CustomThreshold.objects.exists()
    assert effective_threshold(cast.org_a1).backups_label == "24 h — global"


def test_the_navigation_links_to_the_conditional_alarms_page(cast):
    page = browser(cast.monitor_a).get("/thresholds/").content.decode()
    assert re.search(r'<a href="/thresholds/"[^>]*>Conditional alarms</a>', page)


def test_r4_3_an_assigned_organization_is_listed_first_even_among_hundreds(cast):
    Organization.objects.bulk_create(
        [Organization(account=cast.account_a, name=f"Customer {n:03d}") for n in range(210)] +
        [Organization(account=cast.account_a, name="Zulu")]
    )
    threshold = CustomThreshold.objects.create(account=cast.account_a, name="Servers", backups_hours=4)
    ThresholdAssignment.objects.create(threshold=threshold, organization=Organization.objects.get(name="Zulu"))
    listing = browser(cast.monitor_a).get(f"/thresholds/custom/{threshold.pk}/organizations/").content.decode()
    assert listing.index("Zulu") < listing.index("Acme") < listing.index("Customer 000")
    assert 'data-testid="more-organizations"' in listing
