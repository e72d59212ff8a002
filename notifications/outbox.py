"""Turning events into deliveries, claiming them, and recording each try (R13.5).

A Delivery row is written in the transaction that writes its event. The Celery
task is only sent once that transaction commits (by `notifications.tasks`, the one
module that talks to Celery); if the message is lost, the sweeper finds the row.
A claim is a compare-and-swap with a lease, so a killed worker delays a delivery
by one lease, never loses it, and two workers never send it at once.
"""

import logging
import random
import time
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from alerts.set_writes import rows_source
from notifications.channels import CHANNELS
from notifications.channels.base import PermanentError, TransientError
from notifications.models import Delivery, DeliveryAttempt

log = logging.getLogger(__name__)


def enqueue_for_events(events) -> list[int]:
    """One Delivery per event and channel target, in the events' transaction: one INSERT for
    the whole list (issue 17), `delivery_once_per_target` keeping it idempotent.

    Answers the ids still pending, for the caller to send once the transaction commits."""
    if not events:
        return []
    account = events[0].alert.account
    now = timezone.now()
    rows = [
        (event.pk, kind, target)
        for kind, channel in CHANNELS.items()
        for event, target in channel.targets_for(account, events)
    ]
    if not rows:
        return []
    ids = _insert_deliveries(account, rows, now)
    if len(ids) == len(rows):
        return ids
    # Some were there already (the same events enqueued twice): answer every one still pending.
    return list(
        Delivery.objects.filter(event__in=events, state=Delivery.State.PENDING).values_list("pk", flat=True)
    )


def _insert_deliveries(account, rows, now) -> list[int]:
    meta = Delivery._meta
    source, params = rows_source([("event_id", "bigint"), ("channel", "text"), ("target", "text")], rows)
    moment = meta.get_field("next_attempt_at").get_db_prep_value(now, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {meta.db_table} (account_id, event_id, channel, target, state, attempts, "
            "next_attempt_at, last_error, external_ref, created_at) "
            f"SELECT %s, v.event_id, v.channel, v.target, %s, 0, %s, '', '', %s FROM {source} "
            "WHERE true ON CONFLICT DO NOTHING RETURNING id",
            [account.pk, Delivery.State.PENDING, moment, moment, *params],
        )
        return sorted(row[0] for row in cursor.fetchall())


def backoff(attempts: int) -> float:
    """Seconds before try `attempts + 1`: exponential from 30 s, capped at 1 h, with full jitter."""
    ceiling = min(3600.0, 30.0 * (2 ** max(0, attempts - 1)))
    return random.uniform(ceiling / 2, ceiling)


def claim(delivery_id, now=None) -> Delivery | None:
    """Take the delivery for one lease, or None when it is not due or someone else has it."""
    now = now or timezone.now()
    lease = now + timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)
    won = Delivery.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
        pk=delivery_id,
        state=Delivery.State.PENDING,
        next_attempt_at__lte=now,
    ).update(claimed_until=lease, attempts=F("attempts") + 1)
    if not won:
        return None
    return Delivery.objects.select_related("event__alert__account", "account").get(pk=delivery_id)


def deliver(delivery_id) -> str | None:
    """Try one delivery now. Answers its new state, or None when it was not ours to try."""
    delivery = claim(delivery_id)
    if delivery is None:
        return None
    started = timezone.now()
    clock = time.monotonic()
    channel = CHANNELS[delivery.channel](delivery)
    ref, error, retry_after, permanent = "", "", None, False
    try:
        ref = channel.send() or ""
    except TransientError as exc:
        error, retry_after = str(exc) or type(exc).__name__, exc.retry_after
    except PermanentError as exc:
        error, permanent = str(exc) or type(exc).__name__, True
    except Exception as exc:  # a bug in a channel must not lose the delivery
        log.exception("delivery %s crashed", delivery_id)
        error = f"{type(exc).__name__}: {exc}"
    duration = int((time.monotonic() - clock) * 1000)
    return _finish(delivery, started, duration, "" if error else ref, error, retry_after, permanent)


def _finish(delivery, started, duration, ref, error, retry_after, permanent) -> str:
    now = timezone.now()
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            delivery=delivery, started_at=started, duration_ms=duration, ok=not error, error=error[:2000]
        )
        changes = {"claimed_until": None, "last_error": error[:2000]}
        if not error:
            changes.update(state=Delivery.State.SENT, sent_at=now, external_ref=ref[:200])
        elif permanent or delivery.attempts >= settings.DELIVERY_MAX_ATTEMPTS:
            changes.update(state=Delivery.State.FAILED)
        else:
            wait = max(retry_after or 0, backoff(delivery.attempts))
            changes.update(next_attempt_at=now + timedelta(seconds=wait))
        Delivery.objects.filter(pk=delivery.pk).update(**changes)
    return changes.get("state", Delivery.State.PENDING)


def due(now=None, limit=500) -> list[int]:
    """Deliveries the sweeper should nudge: pending, due, and not under a live lease."""
    now = now or timezone.now()
    return list(
        Delivery.objects.filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
            state=Delivery.State.PENDING,
            next_attempt_at__lte=now,
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def reopen_failed(delivery) -> bool:
    """R13.5: a failed delivery can be retried by hand; it gets a fresh set of tries."""
    updated = Delivery.objects.filter(pk=delivery.pk, state=Delivery.State.FAILED).update(
        state=Delivery.State.PENDING, attempts=0, next_attempt_at=timezone.now(), claimed_until=None
    )
    return bool(updated)
