"""What every PSA channel shares (R13.3): which integration, what the ticket says,
how an HTTP answer becomes a TransientError/PermanentError, and the idempotent
open/close dance of invariant 4.

Options an account sets on its PSA integration (`Integration.options`):
  board (CW board id / Autotask queue id / BMS queue id), priority, ticket_type,
  status (new-ticket status), default_company, close_on_resolve (bool),
  closed_status. The organization → company mapping lives in PsaCompanyMapping.
"""

import logging
import math
import threading
import urllib.request
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime

import requests
from django.conf import settings
from django.utils import timezone

from integrations.http import session as shared_session
from integrations.models import Integration
from integrations.url_guard import UnsafeURL
from notifications.channels.base import Channel, PermanentError, TransientError, alert_url
from notifications.models import Delivery, PsaCompanyMapping
from notifications.ratelimit import throttle

log = logging.getLogger(__name__)

PSA_KINDS = (
    Integration.Kind.CONNECTWISE, Integration.Kind.AUTOTASK, Integration.Kind.BMS, Integration.Kind.VOREX,
)
# R9.2: integration alerts never open tickets (email still goes out).
NO_TICKET_KINDS = {"dbma_integration"}
# (connect, read) seconds: a hung PSA must not hold a worker near its lease. Setting PSA_TIMEOUT overrides.
TIMEOUT = (5, 20)
# The longest a vendor's Retry-After may hold back a delivery (seconds).
RETRY_AFTER_MAX = 3600.0
OPTION_FIELDS = (
    ("board", "Board / queue id", "text"),
    ("priority", "Priority id", "text"),
    ("ticket_type", "Ticket type id", "text"),
    ("status", "New ticket status id", "text"),
    ("default_company", "Default company id", "text"),
    ("close_on_resolve", "Close the ticket when the alert resolves", "bool"),
    ("closed_status", "Closed status id", "text"),
    ("rate_per_minute", "Calls per minute at most", "text"),
)


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
        http = shared_session(retries=0)
        # Without proxy variables there is nothing to read from the environment; skipping it
        # (and ~/.netrc) on every call saves a few ms of CPU per delivery.
        http.trust_env = bool(urllib.request.getproxies())
        cache[key] = http
    return cache[key]


def psa_integration(account) -> Integration | None:
    """R13.3: one PSA per account — its enabled PSA integration, the oldest if several."""
    return (
        Integration.objects.filter(account=account, kind__in=PSA_KINDS, enabled=True)
        .order_by("created_at", "id")
        .first()
    )


def company_for(integration, organization) -> str:
    """The PSA company of an alert's organization, else the default company."""
    if organization is not None:
        mapped = PsaCompanyMapping.objects.filter(organization=organization).values_list("company", flat=True).first()
        if mapped:
            return mapped
    return str(integration.options.get("default_company") or "")


@dataclass
class Ticket:
    title: str
    description: str
    company: str
    ref: str


def ticket_for(integration, alert, limit=100) -> Ticket:
    """Title ends with the alert's ref (the lookup key after a crash, invariant 4)."""
    suffix = f" [{alert.ref}]"
    title = alert.title[: limit - len(suffix)] + suffix
    where = [f"Organization: {alert.organization.name if alert.organization else alert.organization_name or '—'}"]
    if alert.appliance_id:
        where.append(f"Appliance: {alert.appliance.name}")
    if alert.asset_id:
        where.append(f"Asset: {alert.asset.name}")
    lines = [
        f"What failed: {alert.kind_label} — {alert.title}",
        f"Subject: {alert.subject}",
        *where,
        f"Since: {alert.raised_at.astimezone(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
    ]
    lines += [f"{key}: {value}" for key, value in (alert.details or {}).items()]
    lines += ["", f"Open the alert in uniview: {alert_url(alert)}", f"Reference: {alert.ref}"]
    return Ticket(title, "\n".join(lines), company_for(integration, alert.organization), alert.ref)


def is_ours(title, ref: str) -> bool:
    """Invariant 4: a ticket found by a vendor search is ours only when its title ends with
    the alert's `[ref]`, as ticket_for() writes it. A search is looser than that (a LIKE
    character class, a case-insensitive `contains`, a person's "Follow-up to [UV-12]"),
    so a retry must never adopt or close what it merely found."""
    title = str(title or "").rstrip()
    suffix = f"[{ref}]"
    return title == suffix or title.endswith(" " + suffix)


def first_ours(rows, ref: str, title_key: str, id_key: str):
    """The id of the first row that is our ticket for `ref`, else None."""
    return next((row[id_key] for row in rows or [] if is_ours(row.get(title_key), ref)), None)


def retry_after_value(value) -> float | None:
    """Seconds from a Retry-After header (a number or an HTTP date), at most RETRY_AFTER_MAX:
    the vendor's wish is honoured up to an hour, so a hostile or broken PSA cannot park a
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


def call(http, method, url, what, **kwargs) -> requests.Response:
    """One HTTP call, its failures sorted: 429/5xx/network are transient, other 4xx permanent."""
    try:
        timeout = getattr(settings, "PSA_TIMEOUT", TIMEOUT)
        response = http.request(method, url, timeout=timeout, allow_redirects=False, **kwargs)
    except UnsafeURL as exc:
        # The outbound guard refused the address: trying again reaches the same refusal,
        # so the delivery fails now with the guard's reason for a person to act on.
        raise PermanentError(f"{what}: not called. {exc}") from exc
    except requests.RequestException as exc:
        # Includes "answered but connection dropped": ambiguous, so the next try looks up first.
        raise TransientError(f"{what}: {type(exc).__name__}") from exc
    if response.status_code == 429:
        raise TransientError(f"{what}: rate limited (429)", retry_after=retry_after(response))
    if response.status_code >= 500:
        raise TransientError(f"{what}: server error {response.status_code}: {response.text[:200]}")
    if response.status_code in (401, 403):
        raise PermanentError(f"{what}: credentials refused ({response.status_code})")
    if response.status_code >= 300:
        raise PermanentError(f"{what}: {response.status_code}: {response.text[:300]}")
    return response


def is_retry(delivery) -> bool:
    """Has this delivery been tried before? A killed try counts (attempts is raised at the claim);
    so does a try before a retry by hand, which resets attempts but keeps the attempt log."""
    return delivery.attempts > 1 or delivery.attempt_log.exists()


class PsaClient:
    """One vendor's API. Subclasses: test(), find(ref), create(ticket), close(id, status)."""

    def __init__(self, integration):
        self.integration = integration
        self.credentials = integration.credentials or {}
        self.options = integration.options or {}
        self.http = session(integration.pk)

    def request(self, method, url, what, **kwargs):
        throttle(f"integration:{self.integration.pk}", int(self.options.get("rate_per_minute") or 600))
        return call(self.http, method, url, what, **kwargs)


class PsaChannel(Channel):
    """A ticket per raised alert; closed on resolve when the option says so (R13.3)."""

    client_class = PsaClient

    @classmethod
    def targets_for(cls, account, events):
        integration = psa_integration(account)
        if integration is None or integration.kind != cls.kind:
            return []
        close = bool(integration.options.get("close_on_resolve"))
        target = str(integration.pk)
        pairs = []
        for event in events:
            if event.alert.kind in NO_TICKET_KINDS:
                continue
            # Dismissal leaves the ticket alone; resolution closes it only when configured.
            if event.type == "raised" or (event.type == "resolved" and close):
                pairs.append((event, target))
        return pairs

    def integration(self) -> Integration:
        integration = Integration.objects.filter(pk=int(self.delivery.target), account=self.delivery.account).first()
        if integration is None:
            raise PermanentError("the PSA integration was removed")
        return integration

    def open(self) -> str:
        integration = self.integration()
        client = self.client_class(integration)
        ticket = ticket_for(integration, self.alert, getattr(client, "title_limit", 100))
        if not ticket.company:
            raise PermanentError("no PSA company for this organization and no default company")
        # Invariant 4: any try after the first may follow a crash or a dropped answer
        # after the ticket was made — look it up by the alert's ref before creating.
        if is_retry(self.delivery):
            found = client.find(ticket.ref)
            if found:
                return str(found)
        return str(client.create(ticket))

    def resolve(self) -> str:
        integration = self.integration()
        if not integration.options.get("close_on_resolve"):
            return "closing is off"
        status = integration.options.get("closed_status")
        if not status:
            raise PermanentError("close on resolve is on but no closed status is configured")
        client = self.client_class(integration)
        ticket_id = self._ticket_id(client)
        if not ticket_id:
            return "no ticket to close"
        client.close(ticket_id, status)
        return str(ticket_id)

    def _ticket_id(self, client) -> str:
        opened = (
            Delivery.objects.filter(  # scoped: same account, same alert, same channel
                account=self.delivery.account, event__alert=self.alert, event__type="raised", channel=self.kind
            )
            .order_by("-created_at")
            .first()
        )
        if opened is not None and opened.state == Delivery.State.SENT and opened.external_ref:
            return opened.external_ref
        if opened is not None and opened.state == Delivery.State.PENDING:
            raise TransientError("the ticket is not open yet")
        return client.find(self.alert.ref) or ""


def connection_test(client_class, integration) -> str:
    """CONNECTION_TESTS entry: the client's test(), failures as a sentence for a person."""
    from integrations.registry import ConnectionFailed  # noqa: PLC0415

    try:
        return client_class(integration).test()
    except (TransientError, PermanentError) as exc:
        raise ConnectionFailed(str(exc)) from exc
    except (KeyError, ValueError) as exc:
        raise ConnectionFailed(f"Unexpected answer or missing setting: {exc}") from exc


def save_check(probe) -> None:
    """SAVE_CHECKS entry (R13.3): one PSA per account; closing on resolve needs a closed status."""
    from rest_framework import serializers  # noqa: PLC0415

    others = Integration.objects.filter(account_id=probe.account_id, kind__in=PSA_KINDS, enabled=True)
    if probe.enabled and probe.account_id and others.exclude(pk=probe.pk).exists():
        raise serializers.ValidationError(
            {"kind": ["This account already has a PSA: one PSA per account. Disable or remove the other first."]}
        )
    options = probe.options or {}
    if options.get("close_on_resolve") and not options.get("closed_status"):
        raise serializers.ValidationError({"options": ["Choose the closed status to close tickets on resolve."]})
