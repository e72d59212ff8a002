"""Management commands from API.md, run as a person would."""

import subprocess
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from alerts.models import Alert
from tenancy.models import Account, ApiToken, Membership
from tests.conftest import NOW, make_appliance

ROOT = Path(__file__).resolve().parent.parent


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_createaccount_makes_a_tenant_and_its_first_superuser(db):
    out = run("createaccount", "--name", "Northwind IT", "--superuser-email", "Boss@Northwind.example",
              "--password", "a-long-enough-password-1")
    account = Account.objects.get(name="Northwind IT")
    membership = Membership.objects.get(account=account)
    assert membership.role == "superuser" and membership.user.email == "boss@northwind.example"
    assert membership.user.check_password("a-long-enough-password-1")
    assert "Northwind IT" in out


def test_createaccount_refuses_a_weak_password_and_writes_nothing(db):
    with pytest.raises(CommandError, match="password"):
        run("createaccount", "--name", "X", "--superuser-email", "x@x.example", "--password", "123")
    assert not Account.objects.exists()


def test_create_api_token_prints_a_token_once_that_works(cast):
    token = run("create_api_token", "admin@a.example", "--scope", "read").strip()
    stored = ApiToken.objects.get(user=cast.admin_a)
    assert stored.scope == "read" and token.split("_")[-1] not in stored.key_hash
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/v1/alerts/").status_code == 200


def test_create_api_token_for_a_stranger_fails(db):
    with pytest.raises(CommandError):
        run("create_api_token", "nobody@example.com")


def test_evaluate_replays_at_a_given_time(cast):
    make_appliance(cast.account_a, cast.org_a1, "ueb", last_contact_at=NOW)
    out = run("evaluate", "--account", str(cast.account_a.pk), "--now", (NOW + timedelta(minutes=10)).isoformat(),
              "--commit")
    assert "raised 0" in out
    out = run("evaluate", "--account", str(cast.account_a.pk), "--now", (NOW + timedelta(hours=1)).isoformat(),
              "--commit")
    assert "raised 1" in out
    assert Alert.objects.get().raised_at == NOW + timedelta(hours=1)
    with pytest.raises(CommandError):
        run("evaluate", "--now", "tomorrow")


def test_seed_demo_builds_the_demo_once_with_an_open_alert(db):
    first = run("seed_demo")
    account = Account.objects.get(is_demo=True)
    assert account.organizations.count() == 10
    assert Membership.objects.filter(account=account).count() == 3
    assert Alert.objects.filter(account=account, state="open", kind="appliance_offline").count() == 1
    lines = first.splitlines()
    assert any(line.startswith("superuser: demo-super@example.com / demo-") for line in lines)
    assert any(line.startswith("admin: demo-admin@example.com / demo-") for line in lines)
    assert any(line.startswith("monitor: demo-monitor@example.com / demo-") for line in lines)
    counts = (account.organizations.count(), Alert.objects.count())
    second = run("seed_demo")
    assert (account.organizations.count(), Alert.objects.count()) == counts
    assert Account.objects.filter(is_demo=True).count() == 1
    assert second.splitlines()[-3:] == first.splitlines()[-3:]  # same logins


def test_seed_demo_if_empty_leaves_a_real_database_alone(cast):
    assert "no demo" in run("seed_demo", "--if-empty")
    assert not Account.objects.filter(is_demo=True).exists()


def test_poll_without_integrations_says_so(db):
    assert "No integrations" in run("poll")


def test_the_compose_file_is_accepted_by_docker_compose():
    env = {"POSTGRES_PASSWORD": "x", "SECRET_KEY": "x", "FIELD_ENCRYPTION_KEY": "x", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(["docker-compose", "config"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    for service in ("postgres", "redis", "web", "worker", "beat"):
        assert f"  {service}:" in result.stdout
