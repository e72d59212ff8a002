"""Smaller doors, each locked: open redirects, the credentials key, HSTS and https, /metrics behind a proxy."""

import base64
import hashlib
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.utils import timezone

from integrations.models import Integration
from inventory.models import Job
from notifications.models import WebhookEndpoint
from observability import tasklog
from tests.conftest import PASSWORD, make_appliance

ROOT = Path(__file__).resolve().parent.parent

HOSTILE_NEXT = pytest.mark.parametrize("target", [
    "//evil.example", "/\\evil.example", "https://evil.example", "http://evil.example/alerts/",
    "\x01//evil.example", "/alerts/\r\nSet-Cookie: x=1", "javascript:alert(1)",
], ids=["scheme-relative", "backslash", "https", "http", "control character", "header injection", "javascript"])


# --- Open redirects -----------------------------------------------------------------------------


@pytest.mark.parametrize("hx", [False, True], ids=["plain", "htmx"])
@HOSTILE_NEXT
def test_r11_after_dismissing_a_next_pointing_off_the_portal_goes_to_the_alerts_page(cast, client, target, hx):
    client.force_login(cast.admin_a)
    headers = {"HTTP_HX_REQUEST": "true"} if hx else {}
    response = client.post("/alerts/dismiss/all/", {"next": target}, **headers)
    landed = response.headers["HX-Redirect"] if hx else response.headers["Location"]
    assert landed == "/alerts/"


def test_r11_after_dismissing_a_next_on_the_portal_is_kept(cast, client):
    client.force_login(cast.admin_a)
    response = client.post("/alerts/dismiss/all/", {"next": f"/alerts/?organization={cast.org_a1.pk}"})
    assert response.status_code == 302 and response.headers["Location"] == f"/alerts/?organization={cast.org_a1.pk}"


@HOSTILE_NEXT
def test_r12_2_after_cancelling_a_job_a_next_pointing_off_the_portal_goes_to_the_job(cast, client, target):
    appliance = make_appliance(cast.account_a, cast.org_a1)
    job = Job.objects.create(account=cast.account_a, appliance=appliance, external_id="7", state="finished")
    client.force_login(cast.admin_a)
    for headers, header in (({}, "Location"), ({"HTTP_HX_REQUEST": "true"}, "HX-Redirect")):
        response = client.post(f"/jobs/{job.pk}/cancel/", {"next": target}, **headers)
        assert response.headers[header] == f"/jobs/{job.pk}/"


# --- The credentials key ------------------------------------------------------------------------

KEY_A, KEY_B = Fernet.generate_key().decode(), Fernet.generate_key().decode()
PROBE = "from django.conf import settings as s; import django; django.setup(); print(s.FIELD_ENCRYPTION_KEY)"


def start(tmp_path, **env):
    """Start Django in a fresh process with exactly these settings; answers (exit code, output)."""
    full = {k: v for k, v in os.environ.items()
            if k not in ("FIELD_ENCRYPTION_KEY", "DATABASE_URL", "SECURE_COOKIES", "DEBUG")}
    full.update(DJANGO_SETTINGS_MODULE="uniview.settings", UNIVIEW_VAR_DIR=str(tmp_path), **env)
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=full, capture_output=True, text=True)
    return done.returncode, done.stdout.strip() + done.stderr


@pytest.mark.parametrize("production", [{"DATABASE_URL": "postgres://u@127.0.0.1:5432/x"}, {"SECURE_COOKIES": "1"}],
                         ids=["shared database", "behind https"])
@pytest.mark.slow
def test_in_production_the_portal_does_not_start_without_a_credentials_key(tmp_path, production):
    code, output = start(tmp_path, **production)
    assert code != 0
    assert "FIELD_ENCRYPTION_KEY is required" in output and "Fernet.generate_key" in output
    assert not (tmp_path / "field_encryption_key").exists()  # never quietly made up in production


@pytest.mark.parametrize("bad", ["not-a-fernet-key", f"{KEY_A},short", "x" * 44],
                         ids=["not a key", "a good key then a bad one", "wrong length"])
@pytest.mark.slow
def test_a_credentials_key_that_is_not_a_fernet_key_stops_the_start_naming_the_setting(tmp_path, bad):
    code, output = start(tmp_path, FIELD_ENCRYPTION_KEY=bad, SECURE_COOKIES="1")
    assert code != 0 and "FIELD_ENCRYPTION_KEY" in output
    assert bad.split(",")[-1] not in output  # the value itself is never printed


@pytest.mark.slow
def test_in_production_the_configured_keys_are_used_as_given(tmp_path):
    code, output = start(tmp_path, FIELD_ENCRYPTION_KEY=f" {KEY_A} , {KEY_B} ", SECURE_COOKIES="1")
    assert code == 0 and output.splitlines()[-1] == f"{KEY_A},{KEY_B}"


@pytest.mark.slow
def test_the_embedded_default_makes_its_own_key_once_and_keeps_it_private(tmp_path):
    code, output = start(tmp_path, SECRET_KEY="some-secret-key-for-this-test-only")
    assert code == 0, output
    key = output.splitlines()[-1]
    Fernet(key.encode())  # a real key
    assert (tmp_path / "field_encryption_key").stat().st_mode & 0o077 == 0
    derived = base64.urlsafe_b64encode(hashlib.sha256(b"field-encryption:some-secret-key-for-this-test-only").digest())
    assert derived.decode() not in key  # not derived from SECRET_KEY
    assert start(tmp_path, SECRET_KEY="another-secret-key-for-this-test")[1].splitlines()[-1] == key


@pytest.mark.slow
def test_an_embedded_install_from_before_keeps_reading_its_credentials_until_rotated(tmp_path):
    (tmp_path / "uniview.sqlite3").write_bytes(b"")  # a database written by an earlier version
    code, output = start(tmp_path, SECRET_KEY="some-secret-key-for-this-test-only")
    assert code == 0, output
    new, earlier = output.splitlines()[-1].split(",")
    derived = base64.urlsafe_b64encode(hashlib.sha256(b"field-encryption:some-secret-key-for-this-test-only").digest())
    assert earlier == derived.decode() and new != earlier  # the new key encrypts; the earlier one only decrypts


@pytest.fixture
def beat_just_ran(db):
    tasklog.beat(tasklog.BEAT_HEARTBEAT, timezone.now() - timedelta(seconds=30))


def test_healthz_fails_with_a_readable_reason_when_the_key_cannot_read_stored_credentials(
        cast, client, settings, beat_just_ran):
    settings.FIELD_ENCRYPTION_KEY = KEY_A
    for name in ("Datto", "Spanning"):
        Integration.objects.create(account=cast.account_a, kind="datto", name=name, credentials={"secret_key": "s"})
    assert client.get("/healthz").status_code == 200

    settings.FIELD_ENCRYPTION_KEY = KEY_B
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["failing"] == ["credentials"]
    reason = response.json()["checks"]["credentials"]["error"]
    assert "2 of 2 integrations" in reason and "FIELD_ENCRYPTION_KEY" in reason
    assert "MSP A" not in response.content.decode() and "Datto" not in response.content.decode()

    settings.FIELD_ENCRYPTION_KEY = f"{KEY_B},{KEY_A}"  # mid-rotation: the old key still decrypts
    assert client.get("/healthz").status_code == 200



def test_healthz_also_fails_when_the_key_cannot_read_a_webhook_secret(cast, client, settings, beat_just_ran):
    settings.FIELD_ENCRYPTION_KEY = KEY_A
    hook = WebhookEndpoint(account=cast.account_a, name="n8n", url="https://hooks.example.com/uniview")
    hook.secret = "whsec-test-only"
    hook.save()
    assert client.get("/healthz").status_code == 200

    settings.FIELD_ENCRYPTION_KEY = KEY_B
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["failing"] == ["credentials"]
    assert "1 of 1 webhook endpoints" in response.json()["checks"]["credentials"]["error"]


# --- HSTS and https behind a trusted proxy --------------------------------------------------------

SECURITY_PROBE = ("from django.conf import settings as s; import django; django.setup(); "
                  "print(s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT, getattr(s, 'SECURE_PROXY_SSL_HEADER', None))")
PROXY, STRANGER = "10.0.0.2", "203.0.113.9"


def security_under(tmp_path, **env):
    full = {k: v for k, v in os.environ.items()
            if k not in ("SECURE_COOKIES", "TRUSTED_PROXIES", "BEHIND_HTTPS_PROXY", "HSTS_SECONDS",
                         "SECURE_SSL_REDIRECT")}
    full.update(DJANGO_SETTINGS_MODULE="uniview.settings", UNIVIEW_VAR_DIR=str(tmp_path),
                FIELD_ENCRYPTION_KEY=KEY_A, **env)
    done = subprocess.run([sys.executable, "-c", SECURITY_PROBE], cwd=ROOT, env=full, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.slow
def test_behind_a_trusted_https_proxy_hsts_and_the_https_redirect_are_on_by_default(tmp_path):
    assert security_under(tmp_path, SECURE_COOKIES="1", TRUSTED_PROXIES=PROXY) == (
        "31536000 True ('HTTP_X_FORWARDED_PROTO', 'https')")


@pytest.mark.slow
def test_without_a_trusted_proxy_the_portal_cannot_tell_https_so_it_sends_hsts_only_on_https(tmp_path):
    # No redirect: behind a proxy that is not trusted every request looks like http and would loop.
    assert security_under(tmp_path, SECURE_COOKIES="1") == "31536000 False None"
    assert security_under(tmp_path) == "0 False None"


@pytest.mark.parametrize("setting", ["TRUSTED_PROXIES", "METRICS_ALLOW"])
def test_an_entry_that_is_not_an_address_stops_the_start_naming_the_setting(tmp_path, setting):
    code, output = start(tmp_path, **{setting: "10.0.0.2, proxy.example"})
    assert code != 0 and setting in output and "'proxy.example' is not an address or network" in output


@pytest.fixture
def behind_proxy(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000


def test_https_through_the_trusted_proxy_gets_hsts_and_http_is_redirected(client, db, behind_proxy):
    response = client.get("/accounts/login/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    response = client.get("/accounts/login/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_PROTO="http")
    assert response.status_code == 301 and response.headers["Location"] == "https://testserver/accounts/login/"


def test_a_forwarded_proto_from_anyone_but_the_trusted_proxy_is_ignored(client, db, behind_proxy):
    response = client.get("/accounts/login/", REMOTE_ADDR=STRANGER, HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 301 and "Strict-Transport-Security" not in response.headers


def test_healthz_and_metrics_stay_reachable_over_http_for_load_balancers_and_scrapers(client, db, behind_proxy):
    tasklog.beat(tasklog.BEAT_HEARTBEAT, timezone.now())
    assert client.get("/healthz", REMOTE_ADDR=PROXY).status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200


# --- /metrics behind a proxy ---------------------------------------------------------------------


def metrics(client, peer, forwarded=None, token=None):
    headers = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    if token is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.get("/metrics", **headers).status_code


def test_metrics_through_a_proxy_on_loopback_are_judged_by_the_forwarded_client(client, db, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    assert metrics(client, "127.0.0.1", forwarded=STRANGER) == 403  # the world, through the local proxy
    assert metrics(client, "127.0.0.1", forwarded=f"127.0.0.1, {STRANGER}") == 403  # a forged entry first
    settings.METRICS_ALLOW = ["10.0.0.0/8"]
    assert metrics(client, "127.0.0.1", forwarded="10.1.2.3") == 200
    assert metrics(client, "127.0.0.1", forwarded="10.1.2.3, 127.0.0.1") == 200  # two proxies deep


def test_a_forwarded_address_from_a_peer_that_is_not_a_trusted_proxy_counts_for_nothing(client, db, settings):
    assert metrics(client, STRANGER, forwarded="127.0.0.1") == 403
    settings.TRUSTED_PROXIES = [PROXY]
    assert metrics(client, STRANGER, forwarded="127.0.0.1") == 403


def test_metrics_answer_a_scraper_with_the_token_from_anywhere_and_no_one_with_a_wrong_one(client, db, settings):
    settings.METRICS_TOKEN = "s3cr3t-scrape-token-for-tests"
    assert metrics(client, STRANGER, token="s3cr3t-scrape-token-for-tests") == 200
    assert metrics(client, STRANGER, token="wrong") == 403
    assert metrics(client, STRANGER) == 403
    settings.METRICS_TOKEN = ""
    assert metrics(client, STRANGER, token="") == 403


# --- Login throttling sees the real client behind the proxy ---------------------------------------


def test_a_lockout_behind_the_proxy_locks_the_attacker_not_everyone_behind_it(cast, client, settings):
    settings.AXES_ENABLED, settings.AXES_FAILURE_LIMIT = True, 3
    settings.TRUSTED_PROXIES = [PROXY]

    def login(password, client_address):
        return client.post("/accounts/login/", {"username": "admin@a.example", "password": password},
                           REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=client_address)

    for _ in range(3):
        login("wrong", STRANGER)
    assert login(PASSWORD, STRANGER).status_code == 429
    assert login(PASSWORD, "198.51.100.20").status_code == 302  # the real admin, elsewhere
