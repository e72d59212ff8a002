"""Issue 11 tried again as an attacker would: the doors of the trust issue, reached by other ways
than their own tests take (R1.1, R1.4, R1.5, R1.6)."""

import ipaddress

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from integrations import http, url_guard
from tenancy.accounts import add_member
from tenancy.models import ApiToken, Organization, Role
from tests.conftest import PASSWORD
from tests.test_trust_sign_in import require_two_factor
from tests.test_two_factor import enrolled, password_step
from thresholds import changes

User = get_user_model()


# --- R1.5: the half-signed-in session reaches nothing but the code step -------------------------
ELSEWHERE = [
    "/api/v1/organizations/", "/api/v1/tokens/", "/api/v1/users/", "/admin/", "/accounts/password_change/",
    "/settings/tokens/", "/settings/two-factor/", "/alerts/rows/?group=x", "/organizations/",
]


@pytest.mark.parametrize("path", ELSEWHERE)
def test_r1_5_a_half_signed_in_session_reaches_no_other_page_api_or_partial(cast, client, path):
    enrolled(cast.superuser_a)
    assert password_step(client, "super@a.example").url == "/accounts/two-factor/"
    answer = client.get(path, HTTP_HX_REQUEST="true")
    assert answer.status_code in (302, 401, 403), (path, answer.status_code)
    if answer.status_code == 302:
        assert answer.url.startswith(("/accounts/login/", "/admin/login/")), answer.url


def test_r1_5_a_half_signed_in_session_creates_no_token_through_the_api_or_the_page(cast, client):
    enrolled(cast.superuser_a)
    password_step(client, "super@a.example")
    assert client.post("/api/v1/tokens/", {"name": "mine"}, content_type="application/json").status_code in (401, 403)
    assert client.post("/settings/tokens/", {"name": "mine"}).status_code == 302
    assert not ApiToken.objects.filter(user=cast.superuser_a).exists()


# --- R1.5: a key shown to one session is never the key another session confirms --------------
def _key_shown(client, path):
    return client.get(path).context["secret"]


def test_r1_5_a_key_shown_to_someone_with_only_the_password_is_not_the_key_the_user_enrols(cast):
    """Someone with a leaked password opens the enrolment page and notes its key; when the user
    later turns two-factor on, their authenticator must not share that key."""
    attacker, user = Client(), Client()
    attacker.force_login(cast.admin_a)
    planted = _key_shown(attacker, "/settings/two-factor/")
    user.force_login(cast.admin_a)
    assert _key_shown(user, "/settings/two-factor/") != planted


def test_r1_5_a_key_shown_at_the_password_step_is_not_the_key_the_user_enrols_at_login(cast):
    require_two_factor(cast.account_a)
    attacker, user = Client(), Client()
    assert password_step(attacker, "monitor@a.example").url == "/accounts/two-factor/setup/"
    planted = _key_shown(attacker, "/accounts/two-factor/setup/")
    password_step(user, "monitor@a.example")
    assert _key_shown(user, "/accounts/two-factor/setup/") != planted


def test_r1_5_the_key_stays_the_same_for_the_session_that_was_shown_it(cast, client):
    """A wrong code must not change the key the person just scanned."""
    client.force_login(cast.admin_a)
    shown = _key_shown(client, "/settings/two-factor/")
    assert client.post("/settings/two-factor/", {"code": "000000"}).context["secret"] == shown
    assert _key_shown(client, "/settings/two-factor/") == shown


# --- R1.4, R1.6: counts on the conditional alarms page ------------------------------------------
def _custom_threshold_on_both_organizations(cast):
    values = {"name": "Strict", "backups_enabled": True, "backups_hours": 12, "hot_copy_enabled": True,
              "hot_copy_hours": 24, "azure_hours": 24}
    return changes.save_custom(cast.account_a, values, [cast.org_a1, cast.org_a2])


def organizations_counted(client, threshold):
    """The Organizations cell of `threshold`'s row on the conditional alarms page."""
    page = client.get("/thresholds/")
    assert page.status_code == 200
    row = page.content.decode().split(f'data-testid="custom-{threshold.pk}"', 1)[1].split("</tr>", 1)[0]
    return row.split('data-testid="organizations-counted">', 1)[1].split("<", 1)[0]


def test_r1_4_a_limited_user_counts_only_their_organizations_on_a_custom_threshold(cast, client):
    threshold = _custom_threshold_on_both_organizations(cast)
    client.force_login(cast.scoped_admin_a)  # sees Birch, not Acme
    assert organizations_counted(client, threshold) == "1"
    client.force_login(cast.superuser_a)
    assert organizations_counted(client, threshold) == "2"


def test_r1_6_a_limit_to_nothing_counts_no_organization_on_a_custom_threshold(cast, client):
    threshold = _custom_threshold_on_both_organizations(cast)
    cedar = Organization.objects.create(account=cast.account_a, name="Cedar")
    orphan = add_member(cast.account_a, "orphan@a.example", PASSWORD, Role.MONITOR, organizations=[cedar])
    cedar.delete()
    client.force_login(User.objects.get(pk=orphan.pk))
    assert organizations_counted(client, threshold) == "0"


# --- Outbound guard: loopback and metadata spelled the other ways a URL can spell them -----------
OTHER_SPELLINGS = [
    ("http://2130706433/", "loopback"), ("http://0x7f.1/", "loopback"), ("http://0177.0.0.1/", "loopback"),
    ("http://127.1/", "loopback"), ("http://0/", "unspecified"), ("http://[::ffff:7f00:1]/", "loopback"),
    ("http://[0:0:0:0:0:ffff:127.0.0.1]/", "loopback"), ("http://[::127.0.0.1]/", "IPv4-compatible"),
    ("http://2852039166/", "link-local"), ("http://[64:ff9b::169.254.169.254]/", "NAT64"),
]


@pytest.mark.parametrize(("url", "why"), OTHER_SPELLINGS)
def test_r9_other_spellings_of_loopback_and_metadata_are_refused_on_save_and_at_connection(settings, url, why):
    settings.OUTBOUND_ALLOW_LOOPBACK, settings.OUTBOUND_ALLOW_PRIVATE, settings.OUTBOUND_ALLOW_CIDRS = False, True, []
    settings.OUTBOUND_REQUIRE_HTTPS = False
    with pytest.raises(url_guard.UnsafeURL, match=why):
        url_guard.check(url)
    with pytest.raises(url_guard.UnsafeURL, match=why):
        http.session(retries=0).get(url, allow_redirects=False)


# --- Emailed links: a password reset link is built from PORTAL_URL, like an invitation -----------
def test_a_password_reset_link_uses_portal_url_not_the_host_the_stranger_asking_sent(cast, client, settings):
    """Anyone may ask for a reset: with the Host of their choosing, the emailed link (and its
    one-time token) would lead the user to the stranger's site."""
    settings.ALLOWED_HOSTS = ["*"]
    settings.PORTAL_URL = "https://portal.msp-a.example"
    assert client.post("/accounts/password_reset/", {"email": "monitor@a.example"},
                       HTTP_HOST="evil.example").status_code == 302
    [message] = mail.outbox
    assert "evil.example" not in message.body
    assert "https://portal.msp-a.example/accounts/reset/" in message.body


# --- Outbound guard: an allow-listed translation prefix never reaches what it embeds -------------
@pytest.mark.parametrize(("network", "url", "why"), [
    ("64:ff9b::/96", "http://[64:ff9b::a9fe:a9fe]/", "link-local"),  # NAT64 of 169.254.169.254
    ("64:ff9b::/96", "http://[64:ff9b::7f00:1]/", "loopback"),
    ("64:ff9b::/96", "http://[64:ff9b::a00:1]/", "private"),  # 10.0.0.1 without OUTBOUND_ALLOW_PRIVATE
    ("2002::/16", "http://[2002:a9fe:a9fe::1]/", "link-local"),  # 6to4 of 169.254.169.254
    ("2002::/16", "http://[2002:7f00:1::1]/", "loopback"),
])
def test_r9_an_allow_listed_nat64_or_6to4_prefix_still_refuses_the_ipv4_it_embeds(settings, network, url, why):
    """IPv6-only deployments reach IPv4 vendors through NAT64, so its prefix may be allow-listed;
    the gateway then connects to the embedded IPv4 address, which is judged like any other."""
    settings.OUTBOUND_ALLOW_LOOPBACK, settings.OUTBOUND_ALLOW_PRIVATE = False, False
    settings.OUTBOUND_REQUIRE_HTTPS = False
    settings.OUTBOUND_ALLOW_CIDRS = [ipaddress.ip_network(network)]
    with pytest.raises(url_guard.UnsafeURL, match=why):
        url_guard.check(url)
    with pytest.raises(url_guard.UnsafeURL, match=why):
        http.session(retries=0).get(url, allow_redirects=False)


def test_r9_an_allow_listed_nat64_prefix_reaches_public_ipv4_vendors(settings):
    settings.OUTBOUND_ALLOW_LOOPBACK, settings.OUTBOUND_ALLOW_PRIVATE = False, False
    settings.OUTBOUND_ALLOW_CIDRS = [ipaddress.ip_network("64:ff9b::/96")]
    assert url_guard.check("https://[64:ff9b::5db8:d822]/") == "https://[64:ff9b::5db8:d822]/"  # 93.184.216.34
