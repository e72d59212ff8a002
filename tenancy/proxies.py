"""Who is asking: the direct peer, or — only when that peer is one of TRUSTED_PROXIES — the client it forwards for.

Headers a proxy adds (X-Forwarded-For, X-Forwarded-Proto) can be sent by anyone,
so they count only when the connection itself comes from a configured proxy.
From anyone else they are dropped before any other code reads them.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

FORWARDED_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST", "HTTP_FORWARDED")


@lru_cache(maxsize=8)
def networks(entries: tuple[str, ...]) -> tuple:
    """Addresses or networks (`10.0.0.2`, `10.0.0.0/8`, `::1`); a bad entry stops the start naming it."""
    parsed = []
    for entry in entries:
        try:
            parsed.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(f"Not an address or network: {entry!r}") from exc
    return tuple(parsed)


def within(address: str, entries) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in networks(tuple(entries)))


def is_trusted_proxy(address: str) -> bool:
    return within(address, getattr(settings, "TRUSTED_PROXIES", ()))


def client_address(request) -> str:
    """The peer; behind trusted proxies, the right-most forwarded address that is not one of them.

    The right-most entries are the ones our own proxies appended; anything to their
    left was sent by the client and may be forged.
    """
    peer = request.META.get("REMOTE_ADDR", "")
    if not is_trusted_proxy(peer):
        return peer
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    for address in reversed(forwarded):
        if not is_trusted_proxy(address):
            return address
    return forwarded[0] if forwarded else peer


class TrustedProxyMiddleware:
    """First in the chain: forwarded headers from a peer that is not a trusted proxy are removed.

    With no TRUSTED_PROXIES, X-Forwarded-Proto keeps the older BEHIND_HTTPS_PROXY
    meaning (every peer is the proxy); X-Forwarded-For is never read then.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if getattr(settings, "TRUSTED_PROXIES", ()) and not is_trusted_proxy(request.META.get("REMOTE_ADDR", "")):
            for header in FORWARDED_HEADERS:
                request.META.pop(header, None)
        return self.get_response(request)
