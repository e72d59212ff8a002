"""What every PSA client shares (R13.3): one kept-alive session per integration, one way to
make a call and sort its failures, the per-integration rate limit, and numeric option ids.

A client answers four verbs — test(), find(ref), create(ticket), close(id, status) — and,
for the two-way sync (R19), three reads — tickets(ids), companies(search), known_companies(ids);
it raises `TransientError`/`PermanentError` (integrations.http), which the outbox reads.
"""

import threading
import urllib.request

import requests
from django.conf import settings

from integrations import http
from integrations.http import PermanentError, TransientError
from integrations.http import session as shared_session
from integrations.ratelimit import throttle
from integrations.url_guard import UnsafeURL

# (connect, read) seconds: a hung PSA must not hold a worker near its lease. Setting PSA_TIMEOUT overrides.
TIMEOUT = (5, 20)

_sessions = threading.local()


def session(key=None) -> requests.Session:
    """The shared outbound session, without transport retries: the outbox owns retries and
    their back-off (R13.5), and a 429's Retry-After must reach it, not be slept through.
    With a key, one session per thread and integration, so connections are kept alive."""
    if key is None:
        return shared_session(retries=0)
    cache = getattr(_sessions, "by_key", None)
    if cache is None:
        cache = _sessions.by_key = {}
    if key not in cache:
        client_session = shared_session(retries=0)
        # Without proxy variables there is nothing to read from the environment; skipping it
        # (and ~/.netrc) on every call saves a few ms of CPU per delivery.
        client_session.trust_env = bool(urllib.request.getproxies())
        cache[key] = client_session
    return cache[key]


def call(client_session, method, url, what, **kwargs) -> requests.Response:
    """One HTTP call, its failures sorted by `http.classify`: 429/5xx/network are transient,
    other 4xx permanent."""
    try:
        timeout = getattr(settings, "PSA_TIMEOUT", TIMEOUT)
        response = client_session.request(method, url, timeout=timeout, allow_redirects=False, **kwargs)
    except UnsafeURL as exc:
        # The outbound guard refused the address: trying again reaches the same refusal,
        # so the delivery fails now with the guard's reason for a person to act on.
        raise PermanentError(f"{what}: not called. {exc}") from exc
    except requests.RequestException as exc:
        # Includes "answered but connection dropped": ambiguous, so the next try looks up first.
        raise TransientError(f"{what}: {type(exc).__name__}") from exc
    status = response.status_code
    verdict = http.classify(status)
    if status == 429:
        raise TransientError(f"{what}: rate limited (429)", retry_after=http.retry_after(response))
    if verdict == http.TRANSIENT:
        raise TransientError(f"{what}: server error {status}: {response.text[:200]}")
    if verdict == http.REFUSED:
        raise PermanentError(f"{what}: credentials refused ({status})")
    if status == 404:
        raise NotFound(f"{what}: 404: {response.text[:300]}")
    if verdict == http.PERMANENT:
        raise PermanentError(f"{what}: {status}: {response.text[:300]}")
    return response


class NotFound(PermanentError):
    """The PSA answered 404: the record (a ticket, a company) is not there (R19)."""


def option_int(value, name: str, vendor: str) -> int:
    """A configured id that must be numeric; anything else is a configuration error, not worth a retry."""
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise PermanentError(f"{vendor} option {name} must be a numeric id") from exc


class PsaClient:
    """One vendor's API. Subclasses: test(), find(ref), create(ticket), close(id, status);
    tickets(ids) -> {id: TicketState} (an id missing from the answer was deleted in the PSA),
    companies(search) -> [Company], known_companies(ids) -> {id: name} (R19);
    `title_limit` is how long a ticket title may be there."""

    title_limit = 100
    # Calls per minute when the integration does not say (its "rate_per_minute" option): under
    # the vendor's published limit, shared by ticket sends and read-backs.
    default_rate_per_minute = 600
    # R19.1: tickets a read-back reads at most (the least recently read first); None: all.
    read_limit: int | None = None

    def __init__(self, integration):
        self.integration = integration
        self.credentials = integration.credentials or {}
        self.options = integration.options or {}
        self.http = session(integration.pk)

    def request(self, method, url, what, **kwargs):
        rate = int(self.options.get("rate_per_minute") or self.default_rate_per_minute)
        throttle(f"integration:{self.integration.pk}", rate)
        return call(self.http, method, url, what, **kwargs)
