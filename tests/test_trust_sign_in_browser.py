"""In a real browser (R1.5): someone who knows only the password of a user with two-factor is
sent back to the code step when they open the enrolment page, sees no key to scan, and gets
in only with the code from the user's own device."""

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import PASSWORD, build_cast
from tests.test_two_factor import code_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_r1_5_the_password_alone_cannot_enrol_a_device_in_the_browser(live_server, browser_page):
    cast = build_cast()
    device = TOTPDevice.objects.create(user=cast.admin_a, name="phone", confirmed=True)
    page = browser_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "admin@a.example")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/accounts/two-factor/")

    page.goto(f"{live_server.url}/accounts/two-factor/setup/")
    page.wait_for_url(f"{live_server.url}/accounts/two-factor/")
    assert page.locator("[data-testid=enroll]").count() == 0
    assert page.locator("[data-testid=totp-secret]").count() == 0
    assert not TOTPDevice.objects.filter(user=cast.admin_a, confirmed=False).exists()

    page.goto(f"{live_server.url}/organizations/")
    page.wait_for_url(f"{live_server.url}/accounts/login/**")  # not signed in by the password alone

    page.goto(f"{live_server.url}/accounts/two-factor/")
    page.fill("#id_code", code_for(device))
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")  # the overview, the landing page
    assert "admin@a.example" in page.locator(".who").text_content()
