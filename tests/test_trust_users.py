"""Users and invitations are superuser-only (R1.3, R1.6): an admin invites, edits and deactivates
nobody, in the API or the dashboard; everyone else sees only themselves. Invitation links carry
the portal's own address, never the Host header of the request that sent them."""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tenancy.accounts import add_member
from tenancy.models import Role
from tests.conftest import api_client

User = get_user_model()
NOT_SUPERUSERS = ["admin_a", "scoped_admin_a", "monitor_a"]


@pytest.mark.parametrize("role", NOT_SUPERUSERS)
def test_r1_3_only_a_superuser_invites_edits_or_deactivates_users_in_the_api(cast, role):
    actor = getattr(cast, role)
    client = api_client(actor)
    invite = client.post("/api/v1/users/", {"email": "new@a.example", "role": "monitor",
                                            "organizations": [cast.org_a2.pk]}, format="json")
    assert invite.status_code == 403
    assert not User.objects.filter(email="new@a.example").exists() and not mail.outbox
    for target in (cast.monitor_a, cast.scoped_admin_a, actor):
        url = f"/api/v1/users/{target.pk}/"
        assert client.patch(url, {"role": "admin"}, format="json").status_code == 403
        assert client.patch(url, {"is_active": False}, format="json").status_code == 403
        assert client.patch(url, {"organizations": [cast.org_a2.pk]}, format="json").status_code == 403
        assert client.post(f"{url}resend-invite/").status_code == 403
    monitor, scoped = User.objects.get(pk=cast.monitor_a.pk), User.objects.get(pk=cast.scoped_admin_a.pk)
    assert monitor.is_active and monitor.membership.role == Role.MONITOR
    assert scoped.is_active and scoped.membership.role == Role.ADMIN
    assert list(scoped.membership.organizations.all()) == [cast.org_a2]


@pytest.mark.parametrize("role", NOT_SUPERUSERS)
def test_r1_3_others_see_only_themselves_in_users(cast, role):
    actor = getattr(cast, role)
    client = api_client(actor)
    assert [u["email"] for u in client.get("/api/v1/users/").json()] == [actor.email]
    assert client.get(f"/api/v1/users/{actor.pk}/").status_code == 200
    assert client.get(f"/api/v1/users/{cast.superuser_a.pk}/").status_code == 404


def test_r1_3_a_superuser_still_sees_and_manages_everyone_of_the_account(cast):
    client = api_client(cast.superuser_a)
    emails = {u["email"] for u in client.get("/api/v1/users/").json()}
    assert emails == {"super@a.example", "admin@a.example", "monitor@a.example", "scoped@a.example"}
    assert client.patch(f"/api/v1/users/{cast.admin_a.pk}/", {"role": "monitor"}, format="json").status_code == 200
    assert User.objects.get(pk=cast.admin_a.pk).membership.role == Role.MONITOR


@pytest.mark.parametrize("role", NOT_SUPERUSERS)
def test_r1_3_the_users_pages_answer_403_to_anyone_but_a_superuser(cast, client, role):
    client.force_login(getattr(cast, role))
    assert client.get("/settings/users/").status_code == 403
    assert client.post("/settings/users/", {"email": "new@a.example", "role": "monitor"}).status_code == 403
    assert client.get(f"/settings/users/{cast.monitor_a.pk}/").status_code == 403
    assert client.post(f"/settings/users/{cast.monitor_a.pk}/", {"role": "admin"}).status_code == 403
    assert client.post(f"/settings/users/{cast.monitor_a.pk}/deactivate/").status_code == 403
    assert client.post(f"/settings/users/{cast.monitor_a.pk}/resend/").status_code == 403
    assert not User.objects.filter(email="new@a.example").exists()
    monitor = User.objects.get(pk=cast.monitor_a.pk)
    assert monitor.is_active and monitor.membership.role == Role.MONITOR


@pytest.mark.parametrize("role", NOT_SUPERUSERS)
def test_r1_3_the_users_menu_entry_is_hidden_from_anyone_but_a_superuser(cast, client, role):
    client.force_login(getattr(cast, role))
    page = client.get("/organizations/").content.decode()
    assert 'href="/settings/users/"' not in page and 'href="/settings/tokens/"' in page
    client.force_login(cast.superuser_a)
    assert 'href="/settings/users/"' in client.get("/organizations/").content.decode()


# --- Invitation links -------------------------------------------------------------------------------
def test_an_emailed_invitation_link_uses_portal_url_not_the_requests_host_in_the_api(cast, settings):
    settings.ALLOWED_HOSTS = ["*"]
    settings.PORTAL_URL = "https://portal.msp-a.example"
    client = api_client(cast.superuser_a)
    response = client.post("/api/v1/users/", {"email": "new@a.example", "all_organizations": True}, format="json",
                           HTTP_HOST="evil.example")
    assert response.status_code == 201
    assert "evil.example" not in mail.outbox[0].body
    assert "https://portal.msp-a.example/accounts/invite/" in mail.outbox[0].body
    client.post(f"/api/v1/users/{response.json()['id']}/resend-invite/", HTTP_HOST="evil.example")
    assert "https://portal.msp-a.example/accounts/invite/" in mail.outbox[1].body
    assert "evil.example" not in mail.outbox[1].body


def test_an_emailed_invitation_link_uses_portal_url_not_the_requests_host_in_the_dashboard(cast, client, settings):
    settings.ALLOWED_HOSTS = ["*"]
    settings.PORTAL_URL = "https://portal.msp-a.example"
    client.force_login(cast.superuser_a)
    client.post("/settings/users/", {"email": "ops@a.example", "role": "monitor", "all_organizations": "on"},
                HTTP_HOST="evil.example")
    invitee = User.objects.get(email="ops@a.example")
    client.post(f"/settings/users/{invitee.pk}/resend/", HTTP_HOST="evil.example")
    assert len(mail.outbox) == 2
    for message in mail.outbox:
        assert "https://portal.msp-a.example/accounts/invite/" in message.body
        assert "evil.example" not in message.body


def _queries_for_the_users_page(client):
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/settings/users/").status_code == 200
    return len(queries)


def test_the_users_page_reads_everyone_s_organizations_in_one_query_however_many_people(cast, client):
    client.force_login(cast.superuser_a)
    before = _queries_for_the_users_page(client)
    for n in range(5):
        add_member(cast.account_a, f"limited-{n}@a.example", None, Role.MONITOR, organizations=[cast.org_a1])
    assert _queries_for_the_users_page(client) == before
