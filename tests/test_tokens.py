"""API tokens (issue 8): own tokens only, the secret shown once and stored hashed, an optional
expiry, a last-used time; a token never exceeds its owner's role and scope (R1.2–R1.4) and
answers 401 once revoked, expired, or its owner is deactivated."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.test import APIClient

from alerts.evaluation import evaluate
from tenancy.models import ApiToken, TokenScope
from tests.conftest import NOW, api_client


def bearer(secret):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def create(user, **fields):
    return api_client(user).post("/api/v1/tokens/", {"name": "backup script", **fields}, format="json")


def test_the_secret_is_shown_once_and_stored_hashed(cast):
    response = create(cast.admin_a, scope="read")
    assert response.status_code == 201
    secret = response.json()["secret"]
    token = ApiToken.objects.get(pk=response.json()["id"])
    assert secret not in token.key_hash and token.key_hash == ApiToken._digest(secret.split("_", 2)[2])
    listed = api_client(cast.admin_a).get("/api/v1/tokens/").json()
    assert all("secret" not in t for t in listed) and secret not in str(listed)
    assert bearer(secret).get("/api/v1/organizations/").status_code == 200


def test_a_token_records_when_it_was_last_used(cast):
    secret = create(cast.admin_a, scope="read").json()["secret"]
    token = ApiToken.objects.get(name="backup script")
    assert token.last_used_at is None
    bearer(secret).get("/api/v1/alerts/")
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_r1_1_a_user_sees_and_revokes_only_their_own_tokens(cast):
    theirs = ApiToken.issue(cast.monitor_a, TokenScope.READ, "monitor's")[0]
    other_account = ApiToken.issue(cast.superuser_b, TokenScope.READ, "b's")[0]
    client = api_client(cast.admin_a)
    names = [t["name"] for t in client.get("/api/v1/tokens/").json()]
    assert "monitor's" not in names and "b's" not in names
    assert client.delete(f"/api/v1/tokens/{theirs.pk}/").status_code == 404
    assert client.delete(f"/api/v1/tokens/{other_account.pk}/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_a_revoked_token_gets_401(cast):
    response = create(cast.admin_a, scope="read")
    secret = response.json()["secret"]
    assert api_client(cast.admin_a).delete(f"/api/v1/tokens/{response.json()['id']}/").status_code == 204
    assert bearer(secret).get("/api/v1/alerts/").status_code == 401
    assert ApiToken.objects.get(pk=response.json()["id"]).revoked_at is not None  # kept, for the record


def test_an_expired_token_gets_401(cast):
    expires = timezone.now() + timedelta(days=1)
    response = create(cast.admin_a, scope="read", expires_at=expires.isoformat())
    secret = response.json()["secret"]
    assert bearer(secret).get("/api/v1/alerts/").status_code == 200
    with time_machine.travel(expires + timedelta(seconds=1)):
        assert bearer(secret).get("/api/v1/alerts/").status_code == 401


def test_an_expiry_in_the_past_is_refused_naming_the_field(cast):
    response = create(cast.admin_a, scope="read", expires_at=(timezone.now() - timedelta(hours=1)).isoformat())
    assert response.status_code == 400 and "expires_at" in response.json()["errors"]
    assert not ApiToken.objects.filter(name="backup script").exists()


def test_a_deactivated_owners_token_gets_401(cast):
    secret = create(cast.admin_a, scope="write").json()["secret"]
    get_user_model().objects.filter(pk=cast.admin_a.pk).update(is_active=False)
    assert bearer(secret).get("/api/v1/alerts/").status_code == 401


def test_r1_2_a_token_never_exceeds_its_owners_role(cast):
    monitor = create(cast.monitor_a, scope="write")
    assert monitor.status_code == 400 and "scope" in monitor.json()["errors"]
    ingest = create(cast.admin_a, scope="ingest")
    assert ingest.status_code == 400 and "scope" in ingest.json()["errors"]
    # An admin's write token still cannot do what only a superuser may (R1.3).
    secret = create(cast.admin_a, scope="write").json()["secret"]
    assert bearer(secret).post("/api/v1/organizations/", {"name": "New"}, format="json").status_code == 403


def test_r1_4_a_scoped_admins_token_sees_only_their_organizations(cast, offline_appliances):
    evaluate(cast.account_a, NOW)
    secret = create(cast.scoped_admin_a, scope="read").json()["secret"]
    alerts = bearer(secret).get("/api/v1/alerts/").json()["results"]
    assert {a["organization"] for a in alerts} == {cast.org_a2.pk}


def test_a_read_token_cannot_make_tokens(cast):
    client = api_client(cast.admin_a, TokenScope.READ)
    assert client.post("/api/v1/tokens/", {"name": "x", "scope": "read"}, format="json").status_code == 403


def test_settings_tokens_page_shows_the_secret_once_and_revokes(cast, client):
    client.force_login(cast.admin_a)
    response = client.post("/settings/tokens/", {"name": "nightly", "scope": "read", "expires_in_days": "30"})
    secret = response.context["secret"]
    assert secret and secret in response.content.decode()
    page = client.get("/settings/tokens/").content.decode()
    assert "nightly" in page and secret not in page
    token = ApiToken.objects.get(name="nightly")
    assert token.expires_at > timezone.now() + timedelta(days=29)
    client.post(f"/settings/tokens/{token.pk}/revoke/")
    assert bearer(secret).get("/api/v1/alerts/").status_code == 401


def test_settings_tokens_page_refuses_a_scope_beyond_the_role(cast, client):
    client.force_login(cast.monitor_a)
    response = client.post("/settings/tokens/", {"name": "x", "scope": "write"})
    assert response.status_code == 400 and "read only" in response.content.decode()
    assert not ApiToken.objects.filter(name="x").exists()


def test_r1_2_the_command_refuses_a_token_beyond_the_role(cast):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="may not ingest"):
        call_command("create_api_token", "monitor@a.example", "--scope", "ingest")
    assert not ApiToken.objects.filter(user=cast.monitor_a).exists()
