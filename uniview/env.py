"""Typed readers for settings that come from the environment.

Each helper fails loudly on a value it cannot parse, so a typo in production
configuration stops the process at start instead of surfacing as odd behaviour.
"""

import ipaddress
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from exc


def env_days(name: str, default: int, minimum: int = 1, why: str = "") -> int:
    """A number of days to keep something; 0 keeps it forever. A value below `minimum`
    stops the process, saying `why` the floor is there."""
    days = env_int(name, default)
    if days != 0 and not minimum <= days:
        reason = f" ({why})" if why else ""
        raise ImproperlyConfigured(f"{name} must be 0 (keep forever) or at least {minimum} days{reason}, not {days}")
    return days


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_cidrs(name: str) -> list:
    """Comma-separated CIDRs (`10.20.0.0/16,fd00::/8`) as ip_network objects; a typo or a
    network written with host bits set (`10.20.0.1/16`) stops the process."""
    networks = []
    for item in env_list(name, []):
        try:
            networks.append(ipaddress.ip_network(item))
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name}: {item!r} is not a network in CIDR form ({exc})") from exc
    return networks


def env_networks(name: str, default: list[str]) -> list[str]:
    """A list of addresses or networks (`10.0.0.2`, `10.0.0.0/8`, `::1`), each checked now."""
    entries = env_list(name, default)
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name}: {entry!r} is not an address or network") from exc
    return entries


def generated_secret(path: Path) -> str:
    """A secret made once and kept in `var/`, so the embedded default needs no setup."""
    if path.exists():
        return path.read_text().strip()
    from django.core.management.utils import get_random_secret_key

    path.parent.mkdir(parents=True, exist_ok=True)
    secret = get_random_secret_key()
    path.write_text(secret)
    path.chmod(0o600)
    return secret


def fernet_keys(name: str, raw: str) -> str:
    """Comma-separated Fernet keys, each checked now; the error names the setting, never the value."""
    from cryptography.fernet import Fernet

    keys = [key.strip() for key in raw.split(",") if key.strip()]
    if not keys:
        raise ImproperlyConfigured(f"{name} is empty.")
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"{name}: key {position} of {len(keys)} is not a Fernet key (32 url-safe base64-encoded bytes)."
            ) from exc
    return ",".join(keys)


def generated_fernet_key(path: Path, adopt: str = "") -> str:
    """A Fernet key made once and kept in `var/`, like the secret key.

    `adopt` (a key that already encrypted stored credentials) is kept after the
    new one, so those credentials still decrypt until `rotate_credentials_key`.
    """
    if path.exists():
        return path.read_text().strip()
    from cryptography.fernet import Fernet

    path.parent.mkdir(parents=True, exist_ok=True)
    keys = ",".join(k for k in (Fernet.generate_key().decode(), adopt) if k)
    path.touch(mode=0o600)
    path.write_text(keys)
    path.chmod(0o600)
    return keys
