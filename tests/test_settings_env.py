"""Settings come from the environment through helpers that fail loudly on a bad value; the demo
is wired in only by its own settings."""

import importlib

import pytest
from django.core.exceptions import ImproperlyConfigured

from uniview.env import env_bool, env_int, env_list, generated_secret


def test_booleans_and_integers_parse_or_fail_loudly(monkeypatch):
    monkeypatch.setenv("UV_FLAG", "yes")
    monkeypatch.setenv("UV_NUM", "42")
    assert env_bool("UV_FLAG") is True and env_int("UV_NUM", 1) == 42
    monkeypatch.setenv("UV_FLAG", "perhaps")
    monkeypatch.setenv("UV_NUM", "forty")
    with pytest.raises(ImproperlyConfigured, match="UV_FLAG"):
        env_bool("UV_FLAG")
    with pytest.raises(ImproperlyConfigured, match="UV_NUM"):
        env_int("UV_NUM", 1)


def test_lists_split_on_commas(monkeypatch):
    monkeypatch.setenv("UV_HOSTS", "a.example, b.example,,")
    assert env_list("UV_HOSTS", []) == ["a.example", "b.example"]
    assert env_list("UV_UNSET", ["x"]) == ["x"]


def test_the_generated_secret_is_made_once_and_kept_private(tmp_path):
    path = tmp_path / "secret_key"
    first = generated_secret(path)
    assert generated_secret(path) == first and len(first) >= 50
    assert path.stat().st_mode & 0o077 == 0


def test_production_neither_installs_the_demo_nor_schedules_its_task():
    production = importlib.import_module("uniview.settings")
    assert "demo" not in production.INSTALLED_APPS
    tasks = [entry["task"] for entry in production.CELERY_BEAT_SCHEDULE.values()]
    assert not [task for task in tasks if task.startswith("demo.")]


def test_the_demo_settings_install_the_demo_and_schedule_its_heartbeat_on_top_of_production():
    production = importlib.import_module("uniview.settings")
    demo = importlib.import_module("demo.settings")
    assert demo.INSTALLED_APPS == [*production.INSTALLED_APPS, "demo"]
    assert demo.CELERY_BEAT_SCHEDULE["demo-heartbeat"] == {"task": "demo.tasks.heartbeat", "schedule": 60.0}
    assert demo.CELERY_BEAT_SCHEDULE.items() >= production.CELERY_BEAT_SCHEDULE.items()
