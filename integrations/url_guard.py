"""Where an integration may send our vendor credentials.

A customer-typed base URL must not reach the portal's own services, the cloud
metadata service or anything else that is not the public internet. Two doors:

- `check(url)` when an integration is saved: http(s) only, no credentials in the
  URL, https only when OUTBOUND_REQUIRE_HTTPS, and a host that resolves only to
  addresses we may reach — early, readable feedback (the shape again before each request).
- `GuardedAdapter` at connection time, the door that counts: it resolves the
  host once, checks every address and connects only to an address it checked,
  so a DNS answer that changes between the check and the call (DNS rebinding)
  gains nothing. TLS still verifies the certificate against the host name.

Refused, always: loopback, link-local (169.254.0.0/16, fe80::/10), the cloud
metadata addresses, "this network", multicast, reserved, documentation and
benchmarking ranges, carrier-grade NAT, IPv6 that embeds IPv4 (mapped,
compatible, NAT64 64:ff9b::/96, 6to4 2002::/16, Teredo) and site-local.

Opened by configuration (uniview/settings.py):
- OUTBOUND_ALLOW_PRIVATE=1: RFC 1918 and ULA (fc00::/7), for appliances or a PSA
  on the MSP's own network — never loopback, link-local or metadata.
- OUTBOUND_ALLOW_CIDRS=10.20.0.0/16,fd00::/8: exactly these networks (a
  narrower opening than the one above; a network overlapping loopback or
  link-local stops the process at start, metadata addresses stay refused;
  an allow-listed NAT64 64:ff9b::/96 or 6to4 address is judged by the IPv4 it embeds).
- OUTBOUND_ALLOW_LOOPBACK: not read from the environment; only the test
  settings (tests/settings.py) and the local demo (demo/settings.py) set it,
  because the vendor fakes listen on 127.0.0.1.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from requests.adapters import HTTPAdapter
from requests.exceptions import InvalidURL
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.connection import allowed_gai_family
from urllib3.util.timeout import _DEFAULT_TIMEOUT

_net = ipaddress.ip_network

# Cloud metadata and host services, refused even inside an allowed network
# (AWS/GCP/Azure/OpenStack 169.254.169.254, AWS IPv6 fd00:ec2::254 — inside fd00::/8 —,
# Azure's host agent 168.63.129.16, Alibaba 100.100.100.200).
METADATA = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "fd00:ec2::254", "168.63.129.16", "100.100.100.200",
))
# Never opened by OUTBOUND_ALLOW_PRIVATE or OUTBOUND_ALLOW_CIDRS.
NEVER = (
    (_net("127.0.0.0/8"), "loopback"),
    (_net("::1/128"), "loopback"),
    (_net("169.254.0.0/16"), "link-local (cloud metadata)"),
    (_net("fe80::/10"), "link-local"),
    (_net("0.0.0.0/8"), "unspecified (\"this network\")"),
    (_net("::/128"), "unspecified"),
)
# RFC 1918 and unique-local IPv6: opened by OUTBOUND_ALLOW_PRIVATE.
PRIVATE = (_net("10.0.0.0/8"), _net("172.16.0.0/12"), _net("192.168.0.0/16"), _net("fc00::/7"))
# Every other class that is not the public internet; the first match names the reason.
NON_GLOBAL = (
    (_net("100.64.0.0/10"), "carrier-grade NAT"),
    (_net("192.0.0.0/24"), "IETF protocol"),
    (_net("192.0.2.0/24"), "documentation"),
    (_net("198.51.100.0/24"), "documentation"),
    (_net("203.0.113.0/24"), "documentation"),
    (_net("198.18.0.0/15"), "benchmarking"),
    (_net("192.88.99.0/24"), "6to4 relay"),
    (_net("224.0.0.0/4"), "multicast"),
    (_net("240.0.0.0/4"), "reserved"),
    (_net("::ffff:0:0/96"), "IPv4-mapped IPv6"),
    (_net("::/96"), "IPv4-compatible IPv6"),
    (_net("64:ff9b::/96"), "NAT64"),
    (_net("64:ff9b:1::/48"), "NAT64"),
    (_net("100::/64"), "discard-only"),
    (_net("2001::/32"), "Teredo"),
    (_net("2001::/23"), "IETF protocol"),
    (_net("2001:db8::/32"), "documentation"),
    (_net("2002::/16"), "6to4"),
    (_net("fec0::/10"), "site-local"),
    (_net("ff00::/8"), "multicast"),
)
_OPENABLE = ("private", "carrier-grade NAT", "site-local")


class UnsafeURL(InvalidURL):
    """The URL may not be called; the message says why, in words a person can act on.

    A `requests` error, so every vendor client already reports it like any
    other failure to reach the vendor (with this message: see http.unreachable).
    """


class Refused(Exception):
    """Raised inside a connection. Deliberately not an OSError: urllib3 would wrap it as a
    connection failure and retry it; GuardedAdapter turns it into UnsafeURL instead."""


def require_https() -> bool:
    return getattr(settings, "OUTBOUND_REQUIRE_HTTPS", False)


def allow_private() -> bool:
    return getattr(settings, "OUTBOUND_ALLOW_PRIVATE", False)


def allow_loopback() -> bool:
    return getattr(settings, "OUTBOUND_ALLOW_LOOPBACK", False) is True


def allowed_networks() -> list:
    return list(getattr(settings, "OUTBOUND_ALLOW_CIDRS", []) or [])


def validate_allowed_networks(networks) -> None:
    """At start: an allow-list entry may not open what is never opened."""
    for network in networks:
        for never, reason in NEVER:
            if network.version == never.version and network.overlaps(never):
                raise ImproperlyConfigured(
                    f"OUTBOUND_ALLOW_CIDRS: {network} overlaps {never}, which is {reason} and is never allowed."
                )


def refusal(ip) -> str | None:
    """Why `ip` may not be reached under the current settings, or None when it may."""
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:  # ::ffff:127.0.0.1 reaches 127.0.0.1: refused whatever it embeds
        inner = refusal(mapped)
        return f"{inner} (IPv4-mapped)" if inner else "IPv4-mapped IPv6"
    for network, reason in NEVER:
        if ip.version == network.version and ip in network:
            return None if reason == "loopback" and allow_loopback() else reason
    if ip in METADATA:
        return "cloud metadata"
    if any(ip.version == n.version and ip in n for n in allowed_networks()):
        return _embedded_refusal(ip)
    if any(ip.version == n.version and ip in n for n in PRIVATE):
        return None if allow_private() else "private"
    for network, reason in NON_GLOBAL:
        if ip.version == network.version and ip in network:
            return reason
    return None if ip.is_global else "non-public"


NAT64 = _net("64:ff9b::/96")


def _embedded_refusal(ip) -> str | None:
    """An allow-listed NAT64 (64:ff9b::/96) or 6to4 address leads to the IPv4 address it embeds
    (an IPv6-only deployment reaches IPv4 vendors so): that address is judged like any other."""
    if ip.version != 6:
        return None
    embedded, how = ip.sixtofour, "6to4"
    if embedded is None and ip in NAT64:
        embedded, how = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF), "NAT64"
    inner = refusal(embedded) if embedded is not None else None
    return f"{inner} (through {how}, {embedded})" if inner else None


def _sentence(host, ip, reason) -> str:
    text = f"The host {host} resolves to {ip}, a {reason} address, which integrations may not reach."
    if reason in _OPENABLE:
        text += " An administrator can allow its network with OUTBOUND_ALLOW_CIDRS."
    return text


def _resolve(host: str, port: int) -> list:
    return socket.getaddrinfo(host, port, allowed_gai_family(), socket.SOCK_STREAM)


def _ip(sockaddr):
    return ipaddress.ip_address(sockaddr[0].split("%")[0])


def check(url: str, resolve: bool = True) -> str:
    """`url` if it may be called under the current settings; UnsafeURL otherwise.

    With `resolve` (on save), every address the host resolves to must be allowed.
    Before a request the shape is enough: GuardedAdapter checks the addresses it
    connects to, so resolving here too would only cost a second DNS lookup."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeURL("Enter a full http(s) URL.")
    if parts.username or parts.password:
        raise UnsafeURL("Put credentials in the credential fields, not in the URL.")
    if require_https() and parts.scheme != "https":
        raise UnsafeURL("Only https URLs are allowed.")
    if not resolve:
        return url
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = _resolve(parts.hostname, port)
    except (socket.gaierror, UnicodeError, ValueError) as exc:
        raise UnsafeURL(f"The host {parts.hostname} cannot be resolved.") from exc
    for info in infos:
        reason = refusal(_ip(info[4]))
        if reason:
            raise UnsafeURL(_sentence(parts.hostname, _ip(info[4]), reason))
    return url


def checked_addresses(host: str, port: int) -> list:
    """getaddrinfo() rows for `host` whose address may be reached; Refused when none may."""
    rows, first_refusal = [], None
    for row in _resolve(host, port):
        reason = refusal(_ip(row[4]))
        if reason is None:
            rows.append(row)
        elif first_refusal is None:
            first_refusal = _sentence(host, _ip(row[4]), reason)
    if not rows:
        raise Refused(first_refusal or f"The host {host} cannot be resolved.")
    return rows


class _GuardedConnection:
    """urllib3's socket creation, except that it connects only to addresses it checked."""

    def _new_conn(self) -> socket.socket:
        host = self._dns_host.strip("[]")
        try:
            rows = checked_addresses(host, self.port)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        error = None
        for family, socktype, proto, _, sockaddr in rows:
            sock = socket.socket(family, socktype, proto)
            try:
                for option in self.socket_options or ():
                    sock.setsockopt(*option)
                if self.timeout is not _DEFAULT_TIMEOUT:
                    sock.settimeout(self.timeout)
                if self.source_address:
                    sock.bind(self.source_address)
                sock.connect(sockaddr)  # the checked address itself: no second resolution
                return sock
            except TimeoutError as exc:
                sock.close()
                raise ConnectTimeoutError(
                    self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
                ) from exc
            except OSError as exc:
                sock.close()
                error = exc
        raise NewConnectionError(self, f"Failed to establish a new connection: {error}") from error


class GuardedHTTPConnection(_GuardedConnection, HTTPConnection):
    pass


class GuardedHTTPSConnection(_GuardedConnection, HTTPSConnection):
    pass  # TLS wraps the socket with server_hostname=self.host: SNI and verification as usual


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """The transport of every outbound session (integrations/http.py)."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        # Through a proxy we would check the proxy's address, not the vendor's: refuse, loudly.
        raise Refused(
            f"Outbound integration calls do not go through a proxy ({proxy}): the address they reach "
            "must be checked. List the vendor hosts in NO_PROXY."
        )

    def send(self, request, *args, **kwargs):
        try:
            return super().send(request, *args, **kwargs)
        except Refused as exc:
            raise UnsafeURL(str(exc), request=request) from None
