"""Where an integration may send our vendor credentials.

In production (OUTBOUND_REQUIRE_HTTPS / OUTBOUND_ALLOW_PRIVATE) a configured URL
must be https and must not resolve to loopback, link-local (169.254.0.0/16 is
the cloud metadata service), private, multicast or reserved addresses: a
customer-typed base URL must not be able to reach the portal's own services.
The check runs on save (serializer) and again before every request (DNS can
change after save). Tests and the embedded default allow loopback because the
vendor fakes run there.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from requests.exceptions import InvalidURL


class UnsafeURL(InvalidURL):
    """The URL may not be called; the message says why, in words a person can act on.

    A `requests` error, so every vendor client already reports it like any
    other failure to reach the vendor.
    """


def require_https() -> bool:
    return getattr(settings, "OUTBOUND_REQUIRE_HTTPS", False)


def allow_private() -> bool:
    return getattr(settings, "OUTBOUND_ALLOW_PRIVATE", True)


def _forbidden(ip) -> str | None:
    ip = getattr(ip, "ipv4_mapped", None) or ip  # ::ffff:127.0.0.1 is loopback too
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local (metadata service)"
    if ip.is_private:
        return "private"
    if not ip.is_global:  # carrier-grade NAT, multicast, reserved, unspecified
        return "non-public"
    return None


def resolve(host: str, port: int) -> list:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeURL(f"The host {host} cannot be resolved.") from exc
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


def check(url: str) -> str:
    """`url` if it may be called under the current settings; UnsafeURL otherwise."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeURL("Enter a full http(s) URL.")
    if parts.username or parts.password:
        raise UnsafeURL("Put credentials in the credential fields, not in the URL.")
    if require_https() and parts.scheme != "https":
        raise UnsafeURL("Only https URLs are allowed.")
    if allow_private():
        return url
    port = parts.port or (443 if parts.scheme == "https" else 80)
    for ip in resolve(parts.hostname, port):
        reason = _forbidden(ip)
        if reason:
            raise UnsafeURL(f"The host {parts.hostname} resolves to a {reason} address ({ip}), which is not allowed.")
    return url
