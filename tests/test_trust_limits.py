"""R1.4, R1.6: an organization limit never widens.

"Every organization" is an explicit property of a membership (`all_organizations`); a limited
admin or monitor whose organizations are all deleted is limited to nothing — in the API, the
dashboard, the counts and the bell. Inviting or editing a person without saying which
organizations they see is refused, naming the field, instead of silently meaning "all".

Emails: alert emails go to the account's list on Settings > Alerts (R13.2), never to a person
chosen by their membership, so no organization limit decides who receives them.
"""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core import mail

from alerts.evaluation import evaluate
from notifications import outbox
from notifications.models import Delivery
from tenancy import scoping
from tenancy.accounts import add_member
from tenancy.models import Membership, Organization, Role
from tests.conftest import NOW, PASSWORD, api_client, make_appliance, make_asset

User = get_user_model()
LISTS = ["/api/v1/alerts/", "/api/v1/organizations/", "/api/v1/appliances/", "/api/v1/assets/"]


@pytest.fixture
def orphans(cast, offline_appliances):
    """An admin and a monitor limited to Cedar, which the superuser then deletes; A has open alerts elsewhere."""
    cedar = Organization.objects.create(account=cast.account_a, name="Cedar")
    make_appliance(cast.account_a, cedar, "cedar-ua")
    make_asset(offline_appliances.a_online, "birch-server")
    admin = add_member(cast.account_a, "cedar-admin@a.example", PASSWORD, Role.ADMIN, organizations=[cedar])
    monitor = add_member(cast.account_a, "cedar-monitor@a.example", PASSWORD, Role.MONITOR, organizations=[cedar])
    evaluate(cast.account_a, NOW)
    deleted = api_client(cast.superuser_a).delete(f"/api/v1/organizations/{cedar.pk}/?confirm=true")
    assert deleted.status_code == 204
    return [User.objects.get(pk=admin.pk), User.objects.get(pk=monitor.pk)]


def test_r1_6_a_limit_whose_organizations_are_deleted_is_a_limit_to_nothing(cast, orphans):
    for person in orphans:
        assert scoping.organization_limit(person) == []
        assert not scoping.scope(person, Organization.objects.all()).exists()
    assert scoping.organization_limit(cast.admin_a) is None  # an "every organization" membership stays so


@pytest.mark.parametrize("path", LISTS)
def test_r1_6_the_api_lists_nothing_to_a_limit_to_nothing(cast, orphans, path):
    for person in orphans:
        response = api_client(person).get(path)
        assert response.status_code == 200, response.content
        assert response.json()["results"] == [], (path, person.email)
    if path != "/api/v1/saas-sources/":
        assert api_client(cast.admin_a).get(path).json()["results"], path  # there was something to see


def test_r1_6_the_api_counts_nothing_for_a_limit_to_nothing(cast, orphans):
    for person in orphans:
        client = api_client(person)
        assert client.get("/api/v1/alert-groups/").json() == []
        # The admin may dismiss (and finds nothing to), the monitor may not (R1.2, R1.3).
        expected = 200 if person.membership.role == Role.ADMIN else 403
        assert client.post("/api/v1/alerts/dismiss/", {"all": True}, format="json").status_code == expected
    assert api_client(cast.admin_a).get("/api/v1/alert-groups/").json()  # nothing was dismissed by them


def test_r1_6_the_dashboard_and_the_bell_show_nothing_to_a_limit_to_nothing(cast, orphans, client):
    for person in orphans:
        client.force_login(person)
        alerts = client.get("/alerts/")
        assert alerts.status_code == 200
        assert alerts.context["bell_count"] == 0
        assert alerts.context["total"] == 0 and not alerts.context["groups"]
        page = alerts.content.decode()
        assert "Acme" not in page and "Birch" not in page  # not even as a filter choice
        organizations = client.get("/organizations/").content.decode()
        assert "Acme" not in organizations and "Birch" not in organizations
        assert client.get(f"/organizations/{cast.org_a1.pk}/").status_code == 404


def test_r1_6_r13_2_alert_emails_go_to_the_accounts_list_whatever_anyone_is_limited_to(cast, orphans):
    """No email is addressed by membership, so no limit — fail open or not — can widen who reads one."""
    emails = Delivery.objects.filter(account=cast.account_a, channel="email")
    assert emails.exists() and set(emails.values_list("target", flat=True)) == {"account"}
    mail.outbox.clear()
    for delivery in emails:
        assert outbox.deliver(delivery.pk) == "sent"
    assert mail.outbox and {tuple(m.to) for m in mail.outbox} == {("noc@msp-a.example",)}


def test_r1_6_the_migration_makes_every_organization_explicit(cast):
    """An empty set meant "every organization" before R1.6: existing memberships keep what they saw."""
    limited = cast.scoped_admin_a.membership
    Membership.objects.update(all_organizations=False)
    migration = importlib.import_module("tenancy.migrations.0003_all_organizations")
    migration.explicit_all_organizations(apps, None)
    assert Membership.objects.get(pk=cast.admin_a.membership.pk).all_organizations is True
    assert Membership.objects.get(pk=cast.monitor_a.membership.pk).all_organizations is True
    assert Membership.objects.get(pk=limited.pk).all_organizations is False
    assert list(Membership.objects.get(pk=limited.pk).organizations.all()) == [cast.org_a2]


# --- Saying "every organization" out loud: the API -----------------------------------------------
def test_r1_6_users_api_reads_all_organizations(cast):
    people = {p["email"]: p for p in api_client(cast.superuser_a).get("/api/v1/users/").json()}
    assert people["admin@a.example"]["all_organizations"] is True
    assert people["scoped@a.example"]["all_organizations"] is False
    assert people["scoped@a.example"]["organizations"] == [cast.org_a2.pk]


@pytest.mark.parametrize("body", [{}, {"organizations": []}, {"all_organizations": False}])
@pytest.mark.parametrize("role", ["admin", "monitor"])
def test_r1_6_an_invitation_that_names_no_organizations_is_refused(cast, body, role):
    response = api_client(cast.superuser_a).post(
        "/api/v1/users/", {"email": "vague@a.example", "role": role, **body}, format="json")
    assert response.status_code == 400, response.content
    assert "organizations" in response.json()["errors"]
    assert not User.objects.filter(email="vague@a.example").exists()


def test_r1_6_an_invitation_for_every_organization_says_so(cast):
    response = api_client(cast.superuser_a).post(
        "/api/v1/users/", {"email": "all@a.example", "role": "monitor", "all_organizations": True}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["all_organizations"] is True and response.json()["organizations"] == []
    invitee = User.objects.get(email="all@a.example")
    assert invitee.membership.all_organizations is True
    assert scoping.organization_limit(invitee) is None


def test_r1_6_every_organization_and_a_list_of_organizations_together_are_refused(cast):
    response = api_client(cast.superuser_a).post(
        "/api/v1/users/",
        {"email": "both@a.example", "all_organizations": True, "organizations": [cast.org_a1.pk]}, format="json")
    assert response.status_code == 400 and "all_organizations" in response.json()["errors"]
    assert not User.objects.filter(email="both@a.example").exists()


def test_r1_6_a_superuser_needs_no_organizations(cast):
    response = api_client(cast.superuser_a).post(
        "/api/v1/users/", {"email": "boss@a.example", "role": "superuser"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["all_organizations"] is True


def test_r1_6_editing_a_limit_to_empty_is_refused_and_changes_nothing(cast):
    client = api_client(cast.superuser_a)
    url = f"/api/v1/users/{cast.scoped_admin_a.pk}/"
    for body in ({"organizations": []}, {"all_organizations": False, "organizations": []}):
        response = client.patch(url, body, format="json")
        assert response.status_code == 400 and "organizations" in response.json()["errors"], body
    membership = Membership.objects.get(user=cast.scoped_admin_a)
    assert membership.all_organizations is False and list(membership.organizations.all()) == [cast.org_a2]


def test_r1_6_widening_and_narrowing_a_limit_through_the_api(cast):
    client = api_client(cast.superuser_a)
    url = f"/api/v1/users/{cast.scoped_admin_a.pk}/"
    wide = client.patch(url, {"all_organizations": True}, format="json")
    assert wide.status_code == 200 and wide.json()["all_organizations"] is True and wide.json()["organizations"] == []
    narrow = client.patch(url, {"organizations": [cast.org_a1.pk]}, format="json")
    assert narrow.status_code == 200, narrow.content
    assert narrow.json()["all_organizations"] is False and narrow.json()["organizations"] == [cast.org_a1.pk]
    membership = Membership.objects.get(user=cast.scoped_admin_a)
    assert membership.all_organizations is False and list(membership.organizations.all()) == [cast.org_a1]


def test_r1_6_a_limited_admin_cannot_grant_every_organization(cast):
    response = api_client(cast.scoped_admin_a).post(
        "/api/v1/users/", {"email": "wide@a.example", "all_organizations": True}, format="json")
    assert response.status_code == 403, response.content  # R1.3: an admin manages no users at all
    assert not User.objects.filter(email="wide@a.example").exists()


# --- ... and in the dashboard ----------------------------------------------------------------------
def test_r1_6_the_invite_form_refuses_no_organizations_with_a_form_error(cast, client):
    client.force_login(cast.superuser_a)
    response = client.post("/settings/users/", {"email": "vague@a.example", "role": "monitor"})
    assert response.status_code == 400
    assert "every organization" in response.content.decode().lower()
    assert not User.objects.filter(email="vague@a.example").exists()


def test_r1_6_the_invite_form_grants_every_organization_when_ticked(cast, client):
    client.force_login(cast.superuser_a)
    page = client.get("/settings/users/").content.decode()
    assert 'name="all_organizations"' in page
    response = client.post("/settings/users/", {"email": "all@a.example", "role": "monitor", "all_organizations": "on"})
    assert response.status_code == 302
    assert User.objects.get(email="all@a.example").membership.all_organizations is True


def test_r1_6_the_edit_form_shows_and_changes_every_organization(cast, client):
    client.force_login(cast.superuser_a)
    url = f"/settings/users/{cast.scoped_admin_a.pk}/"
    assert "checked" not in client.get(url).content.decode().split('name="all_organizations"')[1].split(">")[0]
    assert client.post(url, {"role": "admin", "all_organizations": "on"}).status_code == 302
    assert Membership.objects.get(user=cast.scoped_admin_a).all_organizations is True
    refused = client.post(url, {"role": "admin"})
    assert refused.status_code == 400
    assert Membership.objects.get(user=cast.scoped_admin_a).all_organizations is True


def test_r1_6_the_users_page_tells_a_limit_to_nothing_from_every_organization(cast, orphans, client):
    client.force_login(cast.superuser_a)
    rows = {
        row.split("<td>")[1].split("</td>")[0]: row
        for row in client.get("/settings/users/").content.decode().split('data-testid="user-row"')[1:]
    }
    assert "None" in rows["cedar-admin@a.example"] and "All" not in rows["cedar-admin@a.example"]
    assert "All" in rows["admin@a.example"]
