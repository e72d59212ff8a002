"""The one PSA channel (R13.3): a ticket per raised alert, closed on resolve when the option
says so, for every PSA kind of `integrations.kinds` through that kind's client.

What a ticket says (and which PSA company it goes to) is written here, since it reads
notifications' PsaCompanyMapping; the idempotent open/close dance of invariant 4 too.
"""

import threading
from contextlib import contextmanager
from datetime import UTC

from alerts.details_text import detail_lines
from alerts.severity import label as severity_label
from integrations import kinds
from integrations.models import Integration
from integrations.psa.connection import psa_integration
from integrations.psa.tickets import Ticket, priority_for
from notifications import grouping
from notifications.channels.base import Channel, PermanentError, TransientError, alert_url
from notifications.models import Delivery, PsaCompanyMapping
from notifications.psa_readback import ticket_deleted

# R9.2: integration alerts never open tickets (email still goes out).
NO_TICKET_KINDS = {"dbma_integration"}


def company_for(integration, organization, companies=None) -> str:
    """The PSA company of an alert's organization, else the default company. `companies`, a
    dict a batch shares, keeps each organization's mapping once read."""
    if organization is not None:
        if companies is not None and organization.pk in companies:
            mapped = companies[organization.pk]
        else:
            mapped = PsaCompanyMapping.objects.filter(organization=organization).values_list("company", flat=True).first()
            if companies is not None:
                companies[organization.pk] = mapped
        if mapped:
            return mapped
    return str(integration.options.get("default_company") or "")


class Batch:
    """What the ticket sends of one batch share: each PSA integration read (and its
    credentials decrypted) once, each organization's company looked up once, and a client
    per sending thread (a client's HTTP session belongs to the thread that made it). Two
    threads reading the same thing at once both read it; the answer is the same."""

    def __init__(self, deliveries=()):
        self.integrations: dict = {}
        self.companies: dict = {}
        self.clients: dict = {}
        if deliveries:
            self._read(deliveries)

    def _read(self, deliveries):
        """The batch's integrations and its organizations' companies, two queries on the claiming
        thread (a target that names no integration of its account is left to the send to refuse)."""
        wanted = {(d.account_id, d.target) for d in deliveries if d.target.isdigit()}
        for integration in Integration.objects.filter(pk__in={int(target) for _, target in wanted}):
            if (integration.account_id, str(integration.pk)) in wanted:
                self.integrations[(integration.account_id, str(integration.pk))] = integration
        organizations = {d.event.alert.organization_id for d in deliveries} - {None}
        self.companies = dict.fromkeys(organizations)
        self.companies.update(
            PsaCompanyMapping.objects.filter(organization_id__in=organizations).values_list("organization_id", "company")
        )


def ticket_for(integration, alert, limit=100, companies=None) -> Ticket:
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
        f"Severity: {severity_label(alert.severity)}",
        *where,
        f"Since: {alert.raised_at.astimezone(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
    ]
    lines += [f"{label}: {text}" for label, text in detail_lines(alert.details)]
    members, total = grouping.members(alert)  # R17.1: a storm's ticket lists its alerts
    if total:
        lines += ["", f"Alerts in this storm ({total}):", *members]
    lines += ["", f"Open the alert in uniview: {alert_url(alert)}", f"Reference: {alert.ref}"]
    return Ticket(title, "\n".join(lines), company_for(integration, alert.organization, companies), alert.ref,
                  priority_for(integration.options, alert.severity))


def is_retry(delivery) -> bool:
    """Has this delivery been tried before? A killed try counts (attempts is raised at the claim);
    so does a try before a retry by hand, which resets attempts but keeps the attempt log."""
    if delivery.attempts > 1:
        return True
    tried = getattr(delivery, "tried_before", None)  # read with the claim (`outbox.claim_batch`)
    return delivery.attempt_log.exists() if tried is None else tried


class PsaChannel(Channel):
    """A ticket per raised alert; closed on resolve when the option says so (R13.3).
    `Channel.for_kind(kind)` gives the channel of one PSA kind; its client is the table's."""

    @classmethod
    @contextmanager
    def batch(cls, deliveries=()):
        yield Batch(deliveries)

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
            # Dismissal leaves the ticket alone; resolution closes it only when configured;
            # a storm's members joining or resolving is a note on its ticket (R17.1).
            if event.type in ("raised", "updated") or (event.type == "resolved" and close):
                pairs.append((event, target))
        return pairs

    def integration(self) -> Integration:
        key = (self.delivery.account_id, self.delivery.target)
        if self.shared is not None and key in self.shared.integrations:
            return self.shared.integrations[key]
        integration = Integration.objects.filter(pk=int(self.delivery.target), account=self.delivery.account).first()
        if integration is None:
            raise PermanentError("the PSA integration was removed")
        if self.shared is not None:
            self.shared.integrations[key] = integration
        return integration

    def client(self, integration):
        if self.shared is None:
            return kinds.get(self.kind).client_class(integration)
        key = (threading.get_ident(), integration.pk)
        if key not in self.shared.clients:
            self.shared.clients[key] = kinds.get(self.kind).client_class(integration)
        return self.shared.clients[key]

    def send(self) -> str:
        if self.event.type == "updated":
            return self.note()
        return super().send()

    def note(self) -> str:
        """R17.1: a storm's members joined or resolved: a note on its ticket, never a second ticket.
        Invariant 4 as for the ticket: a try after the first may follow an answer lost after the PSA
        recorded the note, so it first looks for its own reference among the ticket's notes."""
        integration = self.integration()
        client = self.client(integration)
        ticket_id = self._ticket_id(client)
        if not ticket_id:
            return "no ticket to note"
        reference = f"Note reference: {self.alert.ref}-{self.delivery.pk}"
        if is_retry(self.delivery) and any(reference in text for text in client.notes(ticket_id)):
            return str(ticket_id)
        client.note(ticket_id, f"{self.event.reason}\n\nOpen the alert in uniview: {alert_url(self.alert)}\n{reference}")
        return str(ticket_id)

    def open(self) -> str:
        integration = self.integration()
        client = self.client(integration)
        companies = self.shared.companies if self.shared is not None else None
        ticket = ticket_for(integration, self.alert, getattr(client, "title_limit", 100), companies)
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
        client = self.client(integration)
        ticket_id = self._ticket_id(client)
        if not ticket_id:
            return "no ticket to close"
        if ticket_deleted(self.alert, ticket_id):  # R19.1: closing it would only meet a 404
            return "the ticket was deleted in the PSA"
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
