"""Two-factor authentication with TOTP (issue 8): a user turns it on; a superuser requires it
for the account; the login then asks for the code, and a user without a device enrolls first."""

import re
import time

import time_machine
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import PASSWORD


def code_for(device, offset=0):
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + offset * device.step
    return f"{totp.token():0{device.digits}d}"


def enrolled(user):
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def signed_in_with_both_factors(client, user, device):
    """What the code step leaves in a session: the user and the device that verified them (R1.5)."""
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def password_step(client, email):
    return client.post("/accounts/login/", {"username": email, "password": PASSWORD, "next": "/organizations/"})


def test_the_password_alone_does_not_log_in_a_user_with_two_factor(cast, client):
    device = enrolled(cast.admin_a)
    response = password_step(client, "admin@a.example")
    assert response.url == "/accounts/two-factor/"
    assert client.get("/organizations/").status_code == 302  # not logged in yet
    wrong = client.post("/accounts/two-factor/", {"code": "000000" if code_for(device) != "000000" else "111111"})
    assert "not right" in wrong.content.decode()
    # django-otp throttles after a failure (1 s, doubling): the next try comes later.
    with time_machine.travel(time.time() + 5, tick=False):
        right = client.post("/accounts/two-factor/", {"code": code_for(device)})
    assert right.url == "/organizations/"
    assert client.get("/organizations/").status_code == 200


def test_a_user_without_two_factor_logs_in_with_the_password(cast, client):
    assert password_step(client, "admin@a.example").url == "/organizations/"
    assert client.get("/organizations/").status_code == 200


def test_a_user_turns_two_factor_on_from_settings(cast, client):
    client.force_login(cast.monitor_a)
    page = client.get("/settings/two-factor/")
    secret = page.context["secret"]
    assert "<svg" in page.content.decode() and secret
    pending = TOTPDevice.objects.get(user=cast.monitor_a, confirmed=False)
    client.post("/settings/two-factor/", {"code": code_for(pending)})
    assert TOTPDevice.objects.filter(user=cast.monitor_a, confirmed=True).exists()
    client.logout()
    assert password_step(client, "monitor@a.example").url == "/accounts/two-factor/"


def test_a_superuser_requires_two_factor_and_users_must_enroll_at_login(cast, client):
    signed_in_with_both_factors(client, cast.superuser_a, enrolled(cast.superuser_a))
    client.post("/settings/two-factor/require/", {"required": "on"})
    cast.account_a.refresh_from_db()
    assert cast.account_a.require_two_factor
    client.logout()

    response = password_step(client, "admin@a.example")
    assert response.url == "/accounts/two-factor/setup/"
    setup = client.get("/accounts/two-factor/setup/")
    assert re.fullmatch(r"[A-Z2-7]+=*", setup.context["secret"])
    assert client.get("/organizations/").status_code == 302  # no way in before enrolling
    device = TOTPDevice.objects.get(user=cast.admin_a, confirmed=False)
    assert client.post("/accounts/two-factor/setup/", {"code": code_for(device)}).url == "/organizations/"
    assert client.get("/organizations/").status_code == 200
    assert TOTPDevice.objects.get(user=cast.admin_a).confirmed


def test_a_session_from_before_the_requirement_ends(cast, client):
    client.force_login(cast.monitor_a)
    assert client.get("/organizations/").status_code == 200
    cast.account_a.require_two_factor = True
    cast.account_a.save()
    assert client.get("/organizations/").url.startswith("/accounts/login/")


def test_r1_3_only_a_superuser_requires_two_factor(cast, client):
    signed_in_with_both_factors(client, cast.admin_a, enrolled(cast.admin_a))
    assert client.post("/settings/two-factor/require/", {"required": "on"}).status_code == 403
    cast.account_a.refresh_from_db()
    assert not cast.account_a.require_two_factor


def test_a_superuser_cannot_require_it_before_turning_it_on_themselves(cast, client):
    client.force_login(cast.superuser_a)
    client.post("/settings/two-factor/require/", {"required": "on"})
    cast.account_a.refresh_from_db()
    assert not cast.account_a.require_two_factor
