"""The one outbound HTTP session factory for every vendor client.

Why one place: every client gets the same timeouts, the same retry policy on
idempotent calls, the same user agent, the same refusal to follow a redirect to
another host (a redirect must never carry our vendor credentials to a host we
did not configure), and the same outbound guard at connection time
(url_guard.GuardedAdapter: only addresses it checked are ever connected to).
"""

import math
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import requests
from django.utils import timezone
from urllib3 import exceptions as urllib3_exceptions
from urllib3.util.retry import Retry

from integrations import url_guard
from tenancy.validation import without_nul

USER_AGENT = "uniview/1.0 (+backup alerting portal)"
# (connect, read) seconds: a vendor slower than this counts as unreachable for this poll.
DEFAULT_TIMEOUT = (5.0, 30.0)
RETRY_AFTER_CAP = 10.0
# The longest a vendor's Retry-After may hold back a delivery (seconds).
RETRY_AFTER_MAX = 3600.0
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class _SameHostSession(requests.Session):
    """A session that follows redirects only within the scheme+host+port it was sent to."""

    def __init__(self, timeout):
        super().__init__()
        self._timeout = timeout

    def request(self, method, url, **kwargs):
        kwargs.setdefault("timeout", self._timeout)
        url_guard.check(url, resolve=False)  # scheme, https, no credentials; the adapter checks the address
        return super().request(method, url, **kwargs)

    def should_strip_auth(self, old_url, new_url):
        return True if origin(old_url) != origin(new_url) else super().should_strip_auth(old_url, new_url)

    def resolve_redirects(self, resp, req, **kwargs):
        target = resp.headers.get("location", "")
        absolute = requests.compat.urljoin(resp.url, target)
        if origin(absolute) != origin(resp.url):
            # Answer the redirect itself; the client treats a 3xx as an error.
            return iter(())
        return super().resolve_redirects(resp, req, **kwargs)


class _CappedRetry(Retry):
    """Honour `Retry-After`, but never sleep longer than RETRY_AFTER_CAP inside one poll."""

    def get_retry_after(self, response):
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, RETRY_AFTER_CAP)


def origin(url: str) -> tuple:
    """(scheme, host, port): what must stay the same for a request to go on (redirects, next pages)."""
    parts = urlsplit(url)
    return (parts.scheme, (parts.hostname or "").lower(), parts.port)


def session(retries: int = 3, backoff: float = 0.5, timeout=DEFAULT_TIMEOUT) -> requests.Session:
    """A session for one vendor client.

    Idempotent calls are retried on connection errors and on 429/502/503/504,
    honouring `Retry-After` (capped, so a poll never sleeps for long); a POST is
    never retried by the transport because it may already have acted.
    """
    retry = _CappedRetry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        allowed_methods=IDEMPOTENT,
        status_forcelist=(429, 502, 503, 504),
        backoff_factor=backoff,
        backoff_max=10,
        respect_retry_after_header=True,
        raise_on_status=False,
        raise_on_redirect=False,
    )
    s = _SameHostSession(timeout)
    adapter = url_guard.GuardedAdapter(max_retries=retry)
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    s.headers["User-Agent"] = USER_AGENT
    s.headers["Accept"] = "application/json"
    s.max_redirects = 3
    return s


# How an HTTP answer is read, for every vendor (see `classify`).
OK, TRANSIENT, REFUSED, PERMANENT = "ok", "transient", "refused", "permanent"


def classify(status: int | None) -> str:
    """The one reading of a vendor's HTTP status: OK (2xx); TRANSIENT (no answer, 429, 5xx:
    try again later); REFUSED (401/403: the credentials); PERMANENT (any other answer: trying
    again gets the same). Pollers, PSA clients, the VSA and webhooks all decide with it."""
    if status is None or status == 429 or status >= 500:
        return TRANSIENT
    if status in (401, 403):
        return REFUSED
    if 200 <= status < 300:
        return OK
    return PERMANENT


def retry_after_value(value) -> float | None:
    """Seconds from a Retry-After header (a number or an HTTP date), at most RETRY_AFTER_MAX:
    the vendor's wish is honoured up to an hour, so a hostile or broken vendor cannot park a
    delivery for a year (the outbox's own back-off still applies on top)."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - timezone.now()).total_seconds()
        except (TypeError, ValueError):
            return None
    if math.isnan(seconds):
        return None
    return min(max(0.0, seconds), RETRY_AFTER_MAX)


def retry_after(response) -> float | None:
    return retry_after_value(response.headers.get("Retry-After"))


class TransientError(Exception):
    """5xx, timeout, 429: try again later (optionally not before `retry_after` seconds)."""

    def __init__(self, message, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(Exception):
    """Bad credentials or another 4xx: stop, mark failed, tell the user."""


class VendorError(Exception):
    """A vendor call that did not give us usable data; `reason` is what alerts and people see."""

    reason = "error"

    def __init__(self, message, status=None, retry_after=None):
        super().__init__(message)
        self.status, self.retry_after = status, retry_after


class InvalidCredentials(VendorError):
    reason = "invalid_credentials"  # 401/403 (R9.2)


class QuotaReached(VendorError):
    reason = "quota"  # 429 after our own retries (R9.2)


def as_delivery_error(exc: VendorError) -> Exception:
    """A client's VendorError as the outbox reads it: transient (try later, Retry-After
    honoured) or permanent, by `classify` of its status."""
    if classify(exc.status) == TRANSIENT:
        later = retry_after_value(exc.retry_after) if exc.status == 429 else None
        return TransientError(str(exc), retry_after=later)
    return PermanentError(str(exc))


def json_or_raise(response, vendor: str):
    """The body of a 2xx JSON answer, or the VendorError that says why not (never the secret)."""
    status = response.status_code
    verdict = classify(status)
    if verdict == REFUSED:
        raise InvalidCredentials(f"{vendor} refused the credentials (HTTP {status}).", status)
    if status == 429:
        retry_after = response.headers.get("Retry-After")
        raise QuotaReached(f"{vendor} API quota reached (HTTP 429, Retry-After {retry_after}).", 429, retry_after)
    if verdict != OK:
        raise VendorError(f"{vendor} answered HTTP {status}.", status)
    try:
        return without_nul(response.json())
    except ValueError as exc:
        raise VendorError(f"{vendor} answered with a body that is not JSON.", status) from exc


def unreachable(vendor: str, exc: requests.RequestException) -> str:
    """What a person reads when a call did not get an answer: the guard's reason when it
    refused the address, else the kind of transport failure (never a URL with secrets)."""
    if isinstance(exc, url_guard.UnsafeURL):
        return f"{vendor} was not called: {exc}"
    return f"{vendor} could not be reached: {_failure(exc)}."


def _failure(exc: requests.RequestException) -> str:
    # requests wraps a timeout met after the retries in a ConnectionError; its reason tells.
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    if isinstance(reason, urllib3_exceptions.NewConnectionError):  # a subclass of the timeout, in urllib3
        return "the connection was refused or dropped"
    if isinstance(exc, requests.Timeout) or isinstance(reason, urllib3_exceptions.TimeoutError):
        return "it did not answer in time"
    if isinstance(exc, requests.exceptions.SSLError) or isinstance(reason, urllib3_exceptions.SSLError):
        return "its TLS certificate was not accepted"
    if isinstance(exc, requests.exceptions.RetryError):
        return "it kept answering with errors"
    if isinstance(exc, requests.ConnectionError):
        return "the connection was refused or dropped"
    return "its answer could not be read"


def get_json(http, url, vendor: str, **kwargs):
    """GET and decode, turning transport failures into a VendorError too."""
    try:
        response = http.get(url, allow_redirects=False, **kwargs)
    except requests.RequestException as exc:
        raise VendorError(unreachable(vendor, exc)) from exc
    return json_or_raise(response, vendor)
