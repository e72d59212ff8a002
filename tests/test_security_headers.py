"""Issue 7 security: headers, the Content-Security-Policy, cookies and password rules."""

import os
import subprocess
import sys

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from tests.conftest import PASSWORD

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def directives(response):
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split("; ")}


def test_every_dashboard_page_carries_the_security_headers(cast, client):
    client.force_login(cast.superuser_a)
    response = client.get("/alerts/")
    assert response.status_code == 200
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"


def test_the_dashboard_policy_allows_scripts_from_our_own_static_files_only(cast, client):
    client.force_login(cast.superuser_a)
    response = client.get("/alerts/")
    policy = directives(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
    page = response.content.decode()
    # The page itself keeps to it: no inline script, htmx comes from /static.
    assert "<script>" not in page and '<script src="/static/js/htmx' in page


def test_the_login_page_is_under_the_strict_policy_too(client):
    response = client.get("/accounts/login/")
    assert directives(response)["script-src"] == ["'self'"]


def test_swagger_ui_gets_the_inline_script_it_needs_and_still_loads(cast, client):
    client.force_login(cast.superuser_a)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert "'unsafe-inline'" in directives(response)["script-src"]
    assert "'unsafe-inline'" not in directives(client.get("/alerts/"))["script-src"]


def test_session_and_csrf_cookies_are_http_only_and_same_site(cast, client):
    client.get("/accounts/login/")
    csrf = client.cookies["csrftoken"]
    assert csrf["httponly"] and csrf["samesite"] == "Lax"
    response = client.post("/accounts/login/", {"username": "super@a.example", "password": PASSWORD})
    assert response.status_code == 302
    session = client.cookies["sessionid"]
    assert session["httponly"] and session["samesite"] == "Lax"
    assert not session["secure"]  # plain http on loopback in tests


def settings_under(env):
    code = ("from django.conf import settings as s; import django; django.setup(); "
            "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, "
            "s.OUTBOUND_REQUIRE_HTTPS, s.OUTBOUND_ALLOW_PRIVATE, s.AXES_ENABLED, s.SECURE_PROXY_SSL_HEADER)")
    full = {**os.environ, "DJANGO_SETTINGS_MODULE": "uniview.settings", **env}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=full, capture_output=True, text=True,
                          check=True).stdout.split(maxsplit=6)


@pytest.mark.slow
def test_behind_https_cookies_are_secure_hsts_is_sent_and_outbound_calls_are_guarded():
    secure = settings_under({"SECURE_COOKIES": "1", "HSTS_SECONDS": "31536000", "BEHIND_HTTPS_PROXY": "1"})
    assert secure[:6] == ["True", "True", "31536000", "True", "False", "True"]
    assert "HTTP_X_FORWARDED_PROTO" in secure[6]
    plain = settings_under({"SECURE_COOKIES": "0", "AXES_ENABLED": "0"})
    assert plain[:6] == ["False", "False", "0", "False", "False", "False"]  # private ranges stay closed


def test_hsts_is_sent_on_https_when_configured(cast, client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    response = client.get("/accounts/login/", secure=True)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "Strict-Transport-Security" not in client.get("/accounts/login/").headers


@pytest.mark.parametrize("weak", ["short1", "password123", "super@a.example"])
def test_weak_passwords_are_refused(cast, weak):
    with pytest.raises(ValidationError):
        validate_password(weak, user=cast.superuser_a)
    validate_password("a-long-unusual-passphrase-42", user=cast.superuser_a)
