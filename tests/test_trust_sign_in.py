"""Every door of signing in stays locked (R1.5): the second factor cannot be skipped, enrolled
around or outlived; tokens follow the account's two-factor rule; a password reset and a
deactivation end what the old credentials opened."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from tenancy.models import ApiToken, TokenScope
from tests.conftest import PASSWORD, api_client
from tests.test_two_factor import code_for, enrolled, password_step, signed_in_with_both_factors

User = get_user_model()
NEW_PASSWORD = "lantern-orchard-quietly-47"


def require_two_factor(account):
    account.require_two_factor = True
    account.save(update_fields=["require_two_factor"])


def bearer(secret):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def a_device_of_someone_elses_making(user):
    """An authenticator the person at the keyboard set up themselves, not yet confirmed."""
    return TOTPDevice.objects.create(user=user, name="attacker's phone", confirmed=False)


# --- The half-signed-in session ------------------------------------------------------------------
@pytest.mark.parametrize("account_requires_it", [False, True])
def test_r1_5_half_signed_in_session_cannot_enrol_a_device(cast, client, account_requires_it):
    if account_requires_it:
        require_two_factor(cast.account_a)
    enrolled(cast.admin_a)
    assert password_step(client, "admin@a.example").url == "/accounts/two-factor/"

    setup = client.get("/accounts/two-factor/setup/")
    assert setup.status_code == 302 and setup.url == "/accounts/two-factor/"
    assert "secret" not in (setup.context or {})
    assert not TOTPDevice.objects.filter(user=cast.admin_a, confirmed=False).exists()

    forged = a_device_of_someone_elses_making(cast.admin_a)
    answer = client.post("/accounts/two-factor/setup/", {"code": code_for(forged)})
    assert answer.status_code == 302 and answer.url == "/accounts/two-factor/"
    forged.refresh_from_db()
    assert not forged.confirmed
    assert client.get("/organizations/").status_code == 302  # still not signed in


def test_r1_5_a_user_without_a_device_in_an_account_that_requires_it_enrols_and_reaches_nothing_else_first(
    cast, client,
):
    require_two_factor(cast.account_a)
    assert password_step(client, "monitor@a.example").url == "/accounts/two-factor/setup/"
    assert "<svg" in client.get("/accounts/two-factor/setup/").content.decode()
    for page in ("/organizations/", "/settings/tokens/", "/settings/two-factor/", "/accounts/password_change/"):
        assert client.get(page).url.startswith("/accounts/login/"), page
    assert client.get("/api/v1/organizations/").status_code in (401, 403)
    assert client.post("/settings/tokens/", {"name": "script", "scope": "read"}).status_code == 302
    assert not ApiToken.objects.filter(user=cast.monitor_a).exists()

    device = TOTPDevice.objects.get(user=cast.monitor_a, confirmed=False)
    assert client.post("/accounts/two-factor/setup/", {"code": code_for(device)}).url == "/organizations/"
    assert client.get("/organizations/").status_code == 200


def test_r1_5_the_half_signed_in_session_can_sign_out(cast, client):
    enrolled(cast.admin_a)
    password_step(client, "admin@a.example")
    client.post("/accounts/logout/")
    assert client.get("/accounts/two-factor/").url == "/accounts/login/"


def test_r1_5_a_session_signed_in_with_the_password_before_a_device_was_enrolled_ends(cast, client):
    assert password_step(client, "admin@a.example").url == "/organizations/"  # no device yet
    enrolled(cast.admin_a)  # from another browser
    assert client.post("/settings/two-factor/off/").url.startswith("/accounts/login/")
    assert TOTPDevice.objects.filter(user=cast.admin_a, confirmed=True).exists()
    assert client.get("/organizations/").url.startswith("/accounts/login/")


def test_r1_5_the_session_that_enrols_a_device_in_settings_goes_on_signed_in_with_both_factors(cast, client):
    assert password_step(client, "admin@a.example").url == "/organizations/"
    client.get("/settings/two-factor/")
    pending = TOTPDevice.objects.get(user=cast.admin_a, confirmed=False)
    client.post("/settings/two-factor/", {"code": code_for(pending)})
    assert TOTPDevice.objects.filter(user=cast.admin_a, confirmed=True).exists()
    assert client.get("/organizations/").status_code == 200


def test_r1_5_a_session_signed_in_with_both_factors_goes_on(cast, client):
    signed_in_with_both_factors(client, cast.admin_a, enrolled(cast.admin_a))
    assert client.get("/organizations/").status_code == 200
    assert client.get("/api/v1/organizations/").status_code == 200


def test_r1_5_the_django_admin_login_does_not_skip_the_second_factor(cast, client):
    User.objects.filter(pk=cast.superuser_a.pk).update(is_staff=True, is_superuser=True)
    enrolled(cast.superuser_a)
    client.post("/admin/login/?next=/admin/", {"username": "super@a.example", "password": PASSWORD})
    answer = client.get("/admin/")
    assert answer.status_code == 302 and answer.url.startswith("/accounts/login/")
    assert client.get("/organizations/").url.startswith("/accounts/login/")


# --- Tokens and the account's requirement --------------------------------------------------------
def test_r1_5_an_account_that_requires_two_factor_refuses_tokens_of_users_without_it(cast):
    _, without = ApiToken.issue(cast.monitor_a, TokenScope.READ, "monitor's")
    _, with_device = ApiToken.issue(cast.superuser_a, TokenScope.READ, "superuser's")
    enrolled(cast.superuser_a)
    assert bearer(without).get("/api/v1/organizations/").status_code == 200
    require_two_factor(cast.account_a)

    refused = bearer(without).get("/api/v1/organizations/")
    assert refused.status_code == 401 and "two-factor" in refused.json()["detail"]
    assert bearer(with_device).get("/api/v1/organizations/").status_code == 200

    enrolled(cast.monitor_a)  # once they enrol, their token works again
    assert bearer(without).get("/api/v1/organizations/").status_code == 200


def test_r1_5_no_token_is_created_for_a_user_without_two_factor_when_the_account_requires_it(cast):
    require_two_factor(cast.account_a)
    with pytest.raises(CommandError, match="requires two-factor"):
        call_command("create_api_token", "monitor@a.example", "--scope", "read")
    with pytest.raises(CommandError, match="requires two-factor"):
        call_command("create_api_token", "monitor@a.example")
    assert not ApiToken.objects.filter(user=cast.monitor_a).exists()


def test_r1_5_the_api_and_the_dashboard_refuse_a_token_to_a_user_without_two_factor(cast, rf):
    """Reached only if the sign-in doors were open; the refusal is there all the same."""
    from tenancy.settings_views import _token_form
    from tenancy.user_api import TokenSerializer

    require_two_factor(cast.account_a)
    request = rf.post("/settings/tokens/", {"name": "script", "scope": "read"})
    request.user = cast.monitor_a
    values, errors = _token_form(request)
    assert values is None and "two-factor" in " ".join(errors.values())
    serializer = TokenSerializer(data={"name": "script", "scope": "read"}, context={"request": request})
    assert not serializer.is_valid()
    assert "two-factor" in str(serializer.errors)


def test_r1_5_a_user_with_two_factor_creates_tokens_in_an_account_that_requires_it(cast, client):
    device = enrolled(cast.admin_a)
    require_two_factor(cast.account_a)
    signed_in_with_both_factors(client, cast.admin_a, device)
    assert client.post("/settings/tokens/", {"name": "script", "scope": "read"}).status_code == 200
    assert ApiToken.objects.filter(user=cast.admin_a, name="script").exists()


# --- A password reset ends the other sessions ------------------------------------------------------
def reset_password_by_email(client, email):
    client.post("/accounts/password_reset/", {"email": email})
    link = re.search(r"https?://\S+", mail.outbox[-1].body).group(0)
    form = client.get(re.sub(r"^https?://[^/]+", "", link), follow=True)
    client.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})


def test_a_password_reset_ends_every_other_session_of_the_user(cast, client):
    signed_in = APIClient()
    signed_in.force_login(cast.monitor_a)
    assert signed_in.get("/organizations/").status_code == 200
    reset_password_by_email(client, "monitor@a.example")
    assert signed_in.get("/organizations/").url.startswith("/accounts/login/")


def test_a_password_reset_ends_a_half_signed_in_session(cast, client):
    device = enrolled(cast.admin_a)
    half = APIClient()
    assert password_step(half, "admin@a.example").url == "/accounts/two-factor/"
    reset_password_by_email(client, "admin@a.example")
    answer = half.post("/accounts/two-factor/", {"code": code_for(device)})
    assert answer.url == "/accounts/login/"
    assert half.get("/organizations/").url.startswith("/accounts/login/")


# --- Deactivation revokes tokens for good -----------------------------------------------------------
def test_deactivating_a_user_revokes_their_tokens_and_reactivation_does_not_bring_them_back(cast, client):
    _, secret = ApiToken.issue(cast.monitor_a, TokenScope.READ, "monitor's")
    assert bearer(secret).get("/api/v1/organizations/").status_code == 200
    superuser = api_client(cast.superuser_a)
    me = f"/api/v1/users/{cast.monitor_a.pk}/"
    assert superuser.patch(me, {"is_active": False}, format="json").status_code == 200
    assert ApiToken.objects.get(name="monitor's").revoked_at is not None
    assert superuser.patch(me, {"is_active": True}, format="json").status_code == 200
    assert bearer(secret).get("/api/v1/organizations/").status_code == 401
    assert ApiToken.objects.get(name="monitor's").revoked_at is not None


def test_deactivating_from_the_dashboard_revokes_tokens_too(cast, client):
    _, secret = ApiToken.issue(cast.monitor_a, TokenScope.READ, "monitor's")
    client.force_login(cast.superuser_a)
    client.post(f"/settings/users/{cast.monitor_a.pk}/deactivate/")
    client.post(f"/settings/users/{cast.monitor_a.pk}/reactivate/")
    assert User.objects.get(pk=cast.monitor_a.pk).is_active
    assert bearer(secret).get("/api/v1/organizations/").status_code == 401


def test_a_user_deactivated_and_reactivated_in_the_django_admin_keeps_their_tokens_revoked(cast):
    _, secret = ApiToken.issue(cast.monitor_a, TokenScope.READ, "monitor's")
    user = User.objects.get(pk=cast.monitor_a.pk)
    user.is_active = False
    user.save()
    user.is_active = True
    user.save()
    assert bearer(secret).get("/api/v1/organizations/").status_code == 401
