"""The reports' outbox: a digest or a monthly report is a ReportDelivery row, written once per
idempotency key (`UNIQUE(account, key)`), then sent by a worker under a lease (R18.3).

The guarantees are the alert outbox's (notifications/outbox.py, invariant 3): at least once —
a lost message or a killed worker leaves the row pending and the sweeper re-sends it once its
lease has expired — and never twice: a row is claimed by one compare-and-swap, sent, and marked
sent by its claimer only. The message is rendered when the row is written, so a retry sends the
same text; its Message-ID is derived from the key, so a mail server seeing it twice can tell.
"""

import smtplib
from datetime import timedelta
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from notifications.outbox import backoff
from reports.models import ReportDelivery
from tenancy.validation import one_line


def exists(account, key) -> bool:
    return ReportDelivery.objects.filter(account=account, key=key).exists()


def enqueue(account, key, subject, text, html, recipients, organization=None, attachment=None,
            attachment_name="") -> int | None:
    """Write the delivery unless its key is there already; answers its id, or None when it was."""
    try:
        with transaction.atomic():
            row = ReportDelivery.objects.create(
                account=account, key=key, organization=organization, subject=one_line(subject)[:250], text=text,
                html=html, recipients=list(recipients), attachment=attachment, attachment_name=attachment_name,
                next_attempt_at=timezone.now(),
            )
    except IntegrityError:  # another beat wrote it first
        return None
    return row.pk


def claim(delivery_id, now=None) -> ReportDelivery | None:
    """The delivery for one lease, or None when it is not due or another worker holds it."""
    now = now or timezone.now()
    lease = now + timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)
    won = ReportDelivery.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
        pk=delivery_id, state=ReportDelivery.State.PENDING, next_attempt_at__lte=now,
    ).update(claimed_until=lease, attempts=F("attempts") + 1)
    if not won:
        return None
    return ReportDelivery.objects.select_related("account").get(pk=delivery_id)


def message_id(delivery) -> str:
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "uniview.invalid"
    return f"<report-{delivery.account_id}-{delivery.key.replace(':', '-')}@{domain}>"


def _message(delivery) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=delivery.subject, body=delivery.text, to=delivery.recipients,
        headers={"Message-ID": message_id(delivery), "X-Uniview-Report": delivery.key},
    )
    if delivery.html:
        message.attach_alternative(delivery.html, "text/html")
    if delivery.attachment:
        message.attach(delivery.attachment_name, bytes(delivery.attachment), "application/pdf")
    return message


def deliver(delivery_id) -> str | None:
    """Try one delivery now; answers its new state, or None when it was not ours to try."""
    delivery = claim(delivery_id)
    if delivery is None:
        return None
    lease = delivery.claimed_until
    error, permanent = "", False
    try:
        _message(delivery).send()
    except smtplib.SMTPRecipientsRefused as exc:
        error, permanent = f"recipients refused: {exc}", True
    except (TimeoutError, smtplib.SMTPException, OSError) as exc:
        error = f"mail server: {exc}"
    except Exception as exc:  # anymail's own errors: a 4xx other than 429 will not get better
        status = getattr(exc, "status_code", None)
        error, permanent = str(exc) or type(exc).__name__, bool(status and 400 <= status < 500 and status != 429)
    now = timezone.now()
    if not error:
        changes = {"state": ReportDelivery.State.SENT, "sent_at": now, "last_error": ""}
    elif permanent or delivery.attempts >= settings.DELIVERY_MAX_ATTEMPTS:
        changes = {"state": ReportDelivery.State.FAILED, "last_error": error[:2000]}
    else:
        changes = {"next_attempt_at": now + timedelta(seconds=backoff(delivery.attempts)), "last_error": error[:2000]}
    ReportDelivery.objects.filter(pk=delivery.pk, claimed_until=lease).update(claimed_until=None, **changes)
    return changes.get("state", ReportDelivery.State.PENDING)


def due(now=None, limit=200) -> list[int]:
    """Pending, due, and under no live lease: what the sweeper nudges."""
    now = now or timezone.now()
    return list(
        ReportDelivery.objects.filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
            state=ReportDelivery.State.PENDING, next_attempt_at__lte=now,
        ).order_by("next_attempt_at").values_list("pk", flat=True)[:limit]
    )
