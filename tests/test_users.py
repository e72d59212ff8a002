"""Settings > Users and `users/` (issue 8): only a superuser manages people (R1.3, R1.6),
invitations by email, password reset, deactivation, and the last-superuser guard."""

import re

from django.contrib.auth import get_user_model
from django.core import mail

from tenancy.accounts import add_member
from tenancy.models import Role
from tests.conftest import PASSWORD, api_client

User = get_user_model()
NEW_PASSWORD = "lantern-orchard-quietly-47"


def emailed_link(message) -> str:
    return re.search(r"https?://\S+", message.body).group(0)


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def test_r1_3_a_superuser_invites_and_the_invitee_chooses_a_password_through_the_emailed_link(cast, client):
    response = api_client(cast.superuser_a).post(
        "/api/v1/users/", {"email": "New@A.example", "role": "admin", "organizations": [cast.org_a1.pk]}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["pending"] is True and response.json()["organizations"] == [cast.org_a1.pk]
    invitee = User.objects.get(email="new@a.example")
    assert not invitee.has_usable_password()
    [message] = mail.outbox
    assert message.to == ["new@a.example"] and "MSP A" in message.subject

    link = path_of(emailed_link(message))
    form = client.get(link, follow=True)
    assert form.context["validlink"] is True
    done = client.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert client.login(username="new@a.example", password=NEW_PASSWORD)
    client.logout()
    assert client.get(link, follow=True).context["validlink"] is False  # the link works once


def test_r1_3_an_invitation_refuses_a_password_the_validators_reject(cast, client):
    api_client(cast.superuser_a).post("/api/v1/users/", {"email": "weak@a.example", "role": "monitor"}, format="json")
    form = client.get(path_of(emailed_link(mail.outbox[0])), follow=True)
    response = client.post(form.redirect_chain[-1][0], {"new_password1": "password", "new_password2": "password"})
    assert response.status_code == 200 and response.context["form"].errors["new_password2"]
    assert not User.objects.get(email="weak@a.example").has_usable_password()


def test_r1_3_resending_an_invitation_sends_a_new_link_only_while_pending(cast):
    client = api_client(cast.superuser_a)
    user_id = client.post("/api/v1/users/", {"email": "late@a.example"}, format="json").json()["id"]
    assert client.post(f"/api/v1/users/{user_id}/resend-invite/").status_code == 204
    assert len(mail.outbox) == 2
    response = client.post(f"/api/v1/users/{cast.admin_a.pk}/resend-invite/")
    assert response.status_code == 400 and "email" in response.json()["errors"]


def test_r1_3_an_email_already_in_use_is_refused_naming_the_field(cast):
    response = api_client(cast.superuser_a).post("/api/v1/users/", {"email": "super@b.example"}, format="json")
    assert response.status_code == 400 and "email" in response.json()["errors"]
    assert not mail.outbox


def test_r1_3_a_monitor_manages_nobody(cast):
    client = api_client(cast.monitor_a)
    assert client.post("/api/v1/users/", {"email": "m@a.example"}, format="json").status_code == 403
    assert client.patch(f"/api/v1/users/{cast.monitor_a.pk}/", {"role": "admin"}, format="json").status_code == 403
    assert [u["id"] for u in client.get("/api/v1/users/").json()] == [cast.monitor_a.pk]


def test_r1_3_the_last_active_superuser_cannot_be_demoted_or_deactivated(cast):
    client = api_client(cast.superuser_a)
    me = f"/api/v1/users/{cast.superuser_a.pk}/"
    demote = client.patch(me, {"role": "admin"}, format="json")
    assert demote.status_code == 400 and "role" in demote.json()["errors"]
    # With a second (but deactivated) superuser, the first is still the last active one.
    other = add_member(cast.account_a, "super2@a.example", PASSWORD, Role.SUPERUSER)
    User.objects.filter(pk=other.pk).update(is_active=False)
    assert client.patch(me, {"role": "monitor"}, format="json").status_code == 400
    assert client.patch(f"/api/v1/users/{other.pk}/", {"is_active": True}, format="json").status_code == 200
    assert api_client(other).patch(me, {"is_active": False}, format="json").status_code == 200
    last = api_client(other).patch(f"/api/v1/users/{other.pk}/", {"role": "admin"}, format="json")
    assert last.status_code == 400 and "role" in last.json()["errors"]


def test_r1_3_a_scoped_admin_lists_only_themselves_and_a_superuser_the_whole_account(cast):
    add_member(cast.account_a, "birch@a.example", None, Role.MONITOR, organizations=[cast.org_a2])
    add_member(cast.account_a, "both@a.example", None, Role.MONITOR, organizations=[cast.org_a1, cast.org_a2])
    emails = [u["email"] for u in api_client(cast.scoped_admin_a).get("/api/v1/users/").json()]
    assert emails == ["scoped@a.example"]
    everyone = [u["email"] for u in api_client(cast.superuser_a).get("/api/v1/users/").json()]
    assert "super@b.example" not in everyone and len(everyone) == 6  # R1.1


def test_r1_1_another_accounts_user_is_404(cast):
    client = api_client(cast.superuser_a)
    assert client.get(f"/api/v1/users/{cast.superuser_b.pk}/").status_code == 404
    assert client.patch(f"/api/v1/users/{cast.superuser_b.pk}/", {"is_active": False}, format="json").status_code == 404
    assert User.objects.get(pk=cast.superuser_b.pk).is_active


def test_a_deactivated_users_session_ends_and_reactivation_lets_them_back(cast, client):
    client.force_login(cast.admin_a)
    assert client.get("/organizations/").status_code == 200
    assert api_client(cast.superuser_a).patch(
        f"/api/v1/users/{cast.admin_a.pk}/", {"is_active": False}, format="json"
    ).status_code == 200
    assert client.get("/organizations/").status_code == 302
    assert not client.login(username="admin@a.example", password=PASSWORD)
    api_client(cast.superuser_a).patch(f"/api/v1/users/{cast.admin_a.pk}/", {"is_active": True}, format="json")
    assert client.login(username="admin@a.example", password=PASSWORD)


def test_password_reset_by_email(cast, client):
    response = client.post("/accounts/password_reset/", {"email": "monitor@a.example"})
    assert response.status_code == 302
    [message] = mail.outbox
    form = client.get(path_of(emailed_link(message)), follow=True)
    client.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert client.login(username="monitor@a.example", password=NEW_PASSWORD)
