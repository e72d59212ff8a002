"""Settings > Users in the dashboard (issue 8, R1.3): the same rules as the API, as form errors."""

from django.contrib.auth import get_user_model
from django.core import mail

User = get_user_model()


def test_r1_3_a_superuser_invites_from_settings_users(cast, client):
    client.force_login(cast.superuser_a)
    response = client.post("/settings/users/", {"email": "ops@a.example", "role": "monitor", "organizations": [cast.org_a1.pk]})
    assert response.status_code == 302
    invitee = User.objects.get(email="ops@a.example")
    assert list(invitee.membership.organizations.all()) == [cast.org_a1]
    assert "/accounts/invite/" in mail.outbox[0].body
    page = client.get("/settings/users/").content.decode()
    assert "ops@a.example" in page and "Invited" in page


def test_r1_3_the_last_superuser_cannot_deactivate_or_demote_themselves_in_the_dashboard(cast, client):
    client.force_login(cast.superuser_a)
    response = client.post(f"/settings/users/{cast.superuser_a.pk}/", {"role": "admin"})
    assert response.status_code == 400 and "last active superuser" in response.content.decode()
    assert User.objects.get(pk=cast.superuser_a.pk).membership.role == "superuser"


def test_r1_3_deactivate_and_reactivate_from_the_dashboard(cast, client):
    client.force_login(cast.superuser_a)
    client.post(f"/settings/users/{cast.monitor_a.pk}/deactivate/")
    assert not User.objects.get(pk=cast.monitor_a.pk).is_active
    client.post(f"/settings/users/{cast.monitor_a.pk}/reactivate/")
    assert User.objects.get(pk=cast.monitor_a.pk).is_active


def test_r1_3_a_monitor_cannot_invite(cast, client):
    client.force_login(cast.monitor_a)
    assert client.post("/settings/users/", {"email": "m@a.example", "role": "monitor"}).status_code == 403
    assert client.post(f"/settings/users/{cast.admin_a.pk}/deactivate/").status_code == 403  # R1.3: before any lookup


def test_the_invite_form_offers_monitor_by_default(cast, client):
    client.force_login(cast.superuser_a)
    page = client.get("/settings/users/").content.decode()
    assert '<option value="monitor" selected>' in page
