"""Appliance versions compare numerically (R2.2): 10.10.0 > 10.6.1 > 9.9."""

import re

CATEGORY_TOGGLES_SINCE = (10, 6, 1)
_VERSION = re.compile(r"^\s*(\d+(?:\.\d+){0,3})")


def parse_version(text: str) -> tuple[int, ...] | None:
    """The numeric parts of a version (`10.6.1-3` → (10, 6, 1)); None when malformed."""
    match = _VERSION.match(text or "")
    if not match:
        return None
    parts = [int(p) for p in match.group(1).split(".")]
    while len(parts) < 3:
        parts.append(0)
    return tuple(parts)


def supports_category_toggles(version_text: str) -> bool:
    """R2.2: category toggles apply from 10.6.1; an unreadable version counts as older."""
    version = parse_version(version_text)
    return version is not None and version >= CATEGORY_TOGGLES_SINCE
