"""In a real browser (issue 8, R1.4): a superuser invites a monitor limited to one organization;
the invitee follows the emailed link, chooses a password, logs in and sees only that organization."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from tests.browser import log_in
from tests.conftest import PASSWORD, build_cast

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
User = get_user_model()
NEW_PASSWORD = "lantern-orchard-quietly-47"


def test_r1_4_an_invited_user_accepts_logs_in_and_sees_only_the_scoped_organizations(
    live_server, browser_page, settings,
):
    settings.PORTAL_URL = live_server.url  # invitation links carry the portal's address, not the Host header
    cast = build_cast()
    page = browser_page
    log_in(page, live_server, "super@a.example", PASSWORD)

    page.click("[data-testid=settings-menu] summary")
    page.click("nav >> text=Users")
    form = page.locator("[data-testid=invite-form]")
    form.locator("#id_email").fill("newcomer@a.example")
    form.locator("#id_role").select_option("monitor")
    form.locator("label", has_text="Birch").locator("input").check()
    form.locator("[data-testid=invite]").click()
    page.locator(".flash", has_text="Invitation sent to newcomer@a.example").wait_for()
    assert "Invited" in page.locator("[data-testid=user-row]", has_text="newcomer@a.example").text_content()
    page.click("button:has-text('Log out')")

    [message] = mail.outbox
    link = re.search(r"https?://\S+", message.body).group(0)
    assert link.startswith(live_server.url)
    page.goto(link)
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    page.click("[data-testid=accept]")
    page.locator(".flash", has_text="Your password is set").wait_for()

    log_in(page, live_server, "newcomer@a.example", NEW_PASSWORD)
    page.click("nav >> text=Organizations")
    rows = page.locator("[data-testid=org-row]")
    rows.first.wait_for()
    assert rows.count() == 1 and "Birch" in rows.first.text_content()
    assert "Acme" not in page.content()
    assert page.locator("[data-testid=create-org]").count() == 0  # a monitor changes nothing
    invitee = User.objects.get(email="newcomer@a.example")
    assert list(invitee.membership.organizations.all()) == [cast.org_a2]
