"""Two-way PSA, the reading half (R19.1): ticket statuses are read back on a schedule.

The tickets read are those of open alerts: the `external_ref` of each open alert's sent
"raised" delivery to the account's PSA. One client per integration reads them in the
vendor's batches (integrations/<vendor>/client.py `tickets`), through the integration's rate
limit; a 429 pauses that integration's read-back until its Retry-After has passed.

- A ticket closed in the PSA dismisses its alert with reason `closed in PSA by <who>`
  (alerts.dismiss.dismiss_closed_tickets): an AlertEvent, the quiet time of R11.4, and no
  ticket update (a dismissal never touches a ticket, R11.4).
- A ticket the PSA no longer has is flagged on its alert (PsaTicket state `deleted`) and is
  not read again; the next raise of the condition is a new alert, with a new ticket.
- Once a day the same run checks that the mapped companies still exist (R19.2).
"""

import logging
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from alerts.dismiss import dismiss_closed_tickets
from integrations.http import PermanentError, TransientError
from integrations.psa.connection import client_for
from notifications import psa_companies
from notifications.models import Delivery, PsaReadBack, PsaTicket

log = logging.getLogger(__name__)

COMPANY_CHECK_EVERY = timedelta(days=1)
PAUSE_AFTER_429 = timedelta(minutes=1)  # when the PSA says 429 without a Retry-After


def open_tickets(integration) -> dict[str, int]:
    """{ticket id: alert id} of the integration's tickets whose alert is open, but for those a
    read-back already found deleted."""
    rows = (
        Delivery.objects.filter(
            account_id=integration.account_id, channel=integration.kind, target=str(integration.pk),
            state=Delivery.State.SENT, event__type="raised", event__alert__state="open",
        )
        .exclude(external_ref="")
        .values_list("external_ref", "event__alert_id")
    )
    tickets = dict(rows)
    gone = PsaTicket.objects.filter(
        integration=integration, state=PsaTicket.State.DELETED, ticket__in=list(tickets)
    ).values_list("ticket", "alert_id")
    for ticket, alert_id in gone:
        if tickets.get(ticket) == alert_id:
            del tickets[ticket]
    return tickets


def least_recently_read(integration, tickets: dict[str, int], limit: int | None) -> dict[str, int]:
    """At most `limit` of `tickets`: those never read first, then the longest unread (a PSA
    read one ticket a call gets through all of them over a few runs, within its rate)."""
    if limit is None or len(tickets) <= limit:
        return tickets
    last = dict(PsaTicket.objects.filter(integration=integration, ticket__in=list(tickets))
                .values_list("ticket", "checked_at"))
    never = datetime(1970, 1, 1, tzinfo=UTC)
    chosen = sorted(tickets, key=lambda ticket: (last.get(ticket) or never, ticket))[:limit]
    return {ticket: tickets[ticket] for ticket in chosen}


def read_back(integration, now=None) -> str:
    """One read-back of one PSA integration; answers what it did, for the task log."""
    now = now or timezone.now()
    run, _ = PsaReadBack.objects.get_or_create(integration=integration, defaults={"account_id": integration.account_id})
    if run.paused_until and run.paused_until > now:
        return f"paused until {run.paused_until:%H:%M:%S} (the PSA asked us to wait)"
    client = client_for(integration)
    tickets = least_recently_read(integration, open_tickets(integration), client.read_limit)
    try:
        found = client.tickets(list(tickets)) if tickets else {}
    except (TransientError, PermanentError, KeyError, ValueError) as exc:
        return _not_read(run, now, exc)
    dismissed = record(integration, tickets, found, now)
    run.ran_at, run.paused_until, run.last_error = now, None, ""
    if run.companies_checked_at is None or run.companies_checked_at <= now - COMPANY_CHECK_EVERY:
        try:
            psa_companies.check_mappings(integration, client, now)
            run.companies_checked_at = now
        except (TransientError, PermanentError, KeyError, ValueError) as exc:
            return _not_read(run, now, exc, what="companies not checked")
    run.save(update_fields=["ran_at", "paused_until", "last_error", "companies_checked_at"])
    return f"read {len(tickets)} tickets, {dismissed} alerts dismissed"


def _not_read(run, now, exc, what="not read") -> str:
    """Keep why, for the integration's page and the log; a 429 (or the rate limit) pauses the
    read-back for its Retry-After. The next run tries again."""
    if isinstance(exc, TransientError):
        wait = timedelta(seconds=exc.retry_after) if exc.retry_after else PAUSE_AFTER_429
        run.paused_until = now + wait
    elif not isinstance(exc, PermanentError):
        exc = f"unexpected answer ({type(exc).__name__}: {exc})"
    run.last_error = f"{what}: {exc}"[:300]
    run.save(update_fields=["ran_at", "paused_until", "last_error", "companies_checked_at"])
    return run.last_error


def record(integration, tickets: dict[str, int], found: dict, now) -> int:
    """Write what the PSA said of each ticket, and dismiss the alerts of the closed ones."""
    before = {
        (row.alert_id, row.ticket): row.state
        for row in PsaTicket.objects.filter(integration=integration, ticket__in=list(tickets))
    }
    rows, closed = [], {}
    for ticket, alert_id in tickets.items():
        seen = found.get(ticket)
        if seen is None:
            state, status, closed_by = PsaTicket.State.DELETED, "", ""
        else:
            state = PsaTicket.State.CLOSED if seen.closed else PsaTicket.State.OPEN
            status, closed_by = seen.status[:100], seen.closed_by[:200]
        if state == PsaTicket.State.CLOSED:
            closed[alert_id] = closed_by
        changed = before.get((alert_id, ticket)) != state and state != PsaTicket.State.OPEN
        rows.append(PsaTicket(
            account_id=integration.account_id, alert_id=alert_id, integration=integration, ticket=ticket,
            state=state, status=status, closed_by=closed_by, checked_at=now, changed_at=now if changed else None,
        ))
    with transaction.atomic():
        PsaTicket.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["alert", "integration", "ticket"],
            update_fields=["state", "status", "closed_by", "checked_at"],
        )
        changed = [r.ticket for r in rows if r.changed_at is not None]
        if changed:  # first seen closed or deleted: when, for a person
            PsaTicket.objects.filter(integration=integration, ticket__in=changed).update(changed_at=now)
        return dismiss_closed_tickets(integration.account, closed, now) if closed else 0


def ticket_deleted(alert, ticket: str) -> bool:
    """Has a read-back found this alert's ticket deleted in the PSA? (Closing it would 404.)"""
    return PsaTicket.objects.filter(alert=alert, ticket=ticket, state=PsaTicket.State.DELETED).exists()
