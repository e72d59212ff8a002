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
from observability import tasklog
from tests.conftest import make_appliance

ROOT = Path(__file__).resolve().parent.parent

HOSTILE_NEXT = ["//evil.example", "/\\evil.example", "https://evil.example", "http://evil.example/alerts/",
                "\x01//evil.example", "/alerts/\r\nSet-Cookie: x=1", "javascript:alert(1)"]


# --- Open redirects -----------------------------------------------------------------------------


@pytest.mark.parametrize("hx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_after_dismissing_a_next_pointing_off_the_portal_goes_to_the_alerts_page(cast, client, target, hx):
    client.force_login(cast.admin_a)
    headers = {"HTTP_HX_REQUEST": "true"} if hx else {}
    response = client.post("/alerts/dismiss/all/", {"next": target}, **headers)
    landed = response.headers["HX-Redirect"] if hx else response.headers["Location"]
    assert landed == "/alerts/"


def test_after_dismissing_a_next_on_the_portal_is_kept(cast, client):
    client.force_login(cast.admin_a)
    response = client.post("/alerts/dismiss/all/", {"next": f"/alerts/?organization={cast.org_a1.pk}"})
    assert response.status_code == 302 and response.headers["Location"] == f"/alerts/?organization={cast.org_a1.pk}"


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_after_cancelling_a_job_a_next_pointing_off_the_portal_goes_to_the_job(cast, client, target):
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
def test_in_production_the_portal_does_not_start_without_a_credentials_key(tmp_path, production):
    code, output = start(tmp_path, **production)
    assert code != 0
    assert "FIELD_ENCRYPTION_KEY is required" in output and "Fernet.generate_key" in output
    assert not (tmp_path / "field_encryption_key").exists()  # never quietly made up in production


@pytest.mark.parametrize("bad", ["not-a-fernet-key", f"{KEY_A},short", "x" * 44],
                         ids=["not a key", "a good key then a bad one", "wrong length"])
def test_a_credentials_key_that_is_not_a_fernet_key_stops_the_start_naming_the_setting(tmp_path, bad):
    code, output = start(tmp_path, FIELD_ENCRYPTION_KEY=bad, SECURE_COOKIES="1")
    assert code != 0 and "FIELD_ENCRYPTION_KEY" in output
    assert bad.split(",")[-1] not in output  # the value itself is never printed


def test_in_production_the_configured_keys_are_used_as_given(tmp_path):
    code, output = start(tmp_path, FIELD_ENCRYPTION_KEY=f" {KEY_A} , {KEY_B} ", SECURE_COOKIES="1")
    assert code == 0 and output.splitlines()[-1] == f"{KEY_A},{KEY_B}"


def test_the_embedded_default_makes_its_own_key_once_and_keeps_it_private(tmp_path):
    code, output = start(tmp_path, SECRET_KEY="some-secret-key-for-this-test-only")
    assert code == 0, output
    key = output.splitlines()[-1]
    Fernet(key.encode())  # a real key
    assert (tmp_path / "field_encryption_key").stat().st_mode & 0o077 == 0
    derived = base64.urlsafe_b64encode(hashlib.sha256(b"field-encryption:some-secret-key-for-this-test-only").digest())
    assert derived.decode() not in key  # not derived from SECRET_KEY
    assert start(tmp_path, SECRET_KEY="another-secret-key-for-this-test")[1].splitlines()[-1] == key


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
