"""The lock files (requirements/, made by `make lock`) pin everything pyproject.toml declares,
within its ranges, the same in both files, and name no package index or path of a machine."""

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCK, DEV_LOCK = ROOT / "requirements" / "lock.txt", ROOT / "requirements" / "dev-lock.txt"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def pins(lock):
    found = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", lock.read_text(), re.MULTILINE)
    return {canonicalize_name(name): version for name, version in found}


def unpinned(lock, declared):
    pinned = pins(lock)
    missing = []
    for requirement in map(Requirement, declared):
        version = pinned.get(canonicalize_name(requirement.name))
        if version is None or not requirement.specifier.contains(version, prereleases=True):
            missing.append(f"{requirement} (locked: {version})")
    return missing


def test_every_runtime_dependency_is_pinned_within_its_range():
    assert unpinned(LOCK, PROJECT["dependencies"]) == [], "run `make lock`"


def test_every_dev_dependency_is_pinned_within_its_range():
    declared = PROJECT["dependencies"] + PROJECT["optional-dependencies"]["dev"]
    assert unpinned(DEV_LOCK, declared) == [], "run `make lock`"


def test_both_locks_pin_the_same_version_of_every_runtime_package():
    runtime, dev = pins(LOCK), pins(DEV_LOCK)
    assert {name: dev.get(name) for name in runtime} == runtime


def test_every_pin_has_a_hash():
    for lock in (LOCK, DEV_LOCK):
        entries = re.split(r"\n(?=[A-Za-z0-9])", lock.read_text())
        assert [entry.split()[0] for entry in entries if "==" in entry and "--hash=sha256:" not in entry] == []


def test_the_locks_name_no_package_index_and_no_path_of_a_machine():
    for lock in (LOCK, DEV_LOCK):
        text = lock.read_text()
        assert not re.search(r"--(extra-)?index-url|--find-links|--trusted-host|://", text)
        assert not re.search(r"(^|[\s=])/[A-Za-z]", text, re.MULTILINE)
