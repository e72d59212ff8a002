"""Turning events into deliveries, claiming them, and recording each try (R13.5).

A Delivery row is written in the transaction that writes its event. The Celery
task is only sent once that transaction commits (by `notifications.tasks`, the one
module that talks to Celery); if the message is lost, the sweeper finds the row.
A claim is a compare-and-swap with a lease, so a killed worker delays a delivery
by one lease, never loses it, and two workers never send it at once.

Deliveries travel in batches (issue 17): a batch is claimed with `SELECT … FOR UPDATE
SKIP LOCKED` and one UPDATE giving all of it one lease, sent on a few threads that keep
their clients' sessions, and finished with one INSERT of attempts and one UPDATE.
"""

import logging
import os
import queue
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from alerts.set_writes import rows_source
from notifications.channels import CHANNELS
from notifications.channels.base import PermanentError, TransientError
from notifications.grouping import chooser
from notifications.models import Delivery, DeliveryAttempt
from tenancy.models import Account

log = logging.getLogger(__name__)


def enqueue_for_events(events) -> list[int]:
    """One Delivery per event and channel target, in the events' transaction: one INSERT for
    the whole list (issue 17), `delivery_once_per_target` keeping it idempotent.

    Answers the ids still pending, for the caller to send once the transaction commits."""
    if not events:
        return []
    account = events[0].alert.account
    now = timezone.now()
    choose = chooser(events)
    rows = [
        (event.pk, kind, target)
        for kind, channel in CHANNELS.items()
        for event, target in _targets(channel, kind, account, choose(kind))
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


def _targets(channel, kind, account, chosen):
    """R17: what noise control leaves a channel (`chosen`: notifications.grouping), then its targets."""
    return channel.targets_for(account, chosen) if chosen else []


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


def claim_batch(delivery_ids, now=None, limit=None) -> list[Delivery]:
    """Take those of `delivery_ids` that are due and free, under one lease for all of them.

    `SELECT … FOR UPDATE SKIP LOCKED` then one UPDATE: two workers handed the same ids split
    them instead of waiting for each other, and each row is won by one claim only."""
    now = now or timezone.now()
    lease = now + timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    due_now = {"state": Delivery.State.PENDING, "next_attempt_at__lte": now}
    with transaction.atomic():
        won = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(free, pk__in=list(delivery_ids), **due_now)
            .order_by("pk")
            .values_list("pk", flat=True)[: limit or settings.DELIVERY_BATCH_SIZE]
        )
        if won:
            Delivery.objects.filter(free, pk__in=won, **due_now).update(claimed_until=lease, attempts=F("attempts") + 1)
    if not won:
        return []
    # What the channels read of each delivery comes with the claim, not with a query per
    # delivery: the alert and what it is about, and `tried_before`, whether a try was logged
    # (`channels.psa.is_retry`). The account, the same for most of a batch, is read once.
    deliveries = list(
        Delivery.objects.select_related(
            "event__alert__organization", "event__alert__appliance", "event__alert__asset", "event__actor",
        )
        .annotate(tried_before=Exists(DeliveryAttempt.objects.filter(delivery=OuterRef("pk"))))
        .filter(pk__in=won, claimed_until=lease)
        .order_by("pk")
    )
    accounts = Account.objects.in_bulk({d.account_id for d in deliveries} | {d.event.alert.account_id for d in deliveries})
    for delivery in deliveries:
        delivery.account = accounts[delivery.account_id]
        delivery.event.alert.account = accounts[delivery.event.alert.account_id]
    return deliveries


def claim(delivery_id, now=None) -> Delivery | None:
    """Take the delivery for one lease, or None when it is not due or someone else has it."""
    claimed = claim_batch([delivery_id], now=now, limit=1)
    return claimed[0] if claimed else None


def deliver(delivery_id) -> str | None:
    """Try one delivery now. Answers its new state, or None when it was not ours to try."""
    return deliver_batch([delivery_id]).get(delivery_id)


@dataclass
class Outcome:
    delivery: Delivery
    started: datetime | None = None  # None: the batch ran out of time before trying it
    duration: int = 0
    ref: str = ""
    error: str = ""
    retry_after: float | None = None
    permanent: bool = False


def deliver_batch(delivery_ids, deadline=None) -> dict[int, str]:
    """Try a batch of deliveries now: claimed together under one lease, sent on up to
    DELIVERY_THREADS threads (each channel sharing what it can across the batch, e.g. one
    SMTP connection), their attempts and outcomes written with a few statements.

    Answers {delivery id: its new state} for the deliveries this call claimed. A delivery not
    started before `deadline` (a monotonic clock) is handed back untried, due at once."""
    deliveries = claim_batch(delivery_ids)
    if not deliveries:
        return {}
    with ExitStack() as stack:
        by_kind = {}
        for delivery in deliveries:
            by_kind.setdefault(delivery.channel, []).append(delivery)
        shared = {kind: stack.enter_context(CHANNELS[kind].batch(of_kind)) for kind, of_kind in by_kind.items()}

        def attempt(delivery):
            if deadline is not None and time.monotonic() > deadline:
                return Outcome(delivery)
            return _send(delivery, shared[delivery.channel])

        threads = min(settings.DELIVERY_THREADS, len(deliveries))
        if threads <= 1:
            outcomes = [attempt(d) for d in deliveries]
        else:
            waiting = queue.SimpleQueue()
            for delivery in deliveries:
                waiting.put(delivery)
            jobs = [_pool().submit(_drain, waiting, attempt) for _ in range(threads)]
            outcomes = [outcome for job in jobs for outcome in job.result()]
    return _finish_batch(outcomes)


def _send(delivery, shared) -> Outcome:
    outcome = Outcome(delivery, started=timezone.now())
    clock = time.monotonic()
    try:
        outcome.ref = CHANNELS[delivery.channel](delivery, shared).send() or ""
    except TransientError as exc:
        outcome.error, outcome.retry_after = str(exc) or type(exc).__name__, exc.retry_after
    except PermanentError as exc:
        outcome.error, outcome.permanent = str(exc) or type(exc).__name__, True
    except Exception as exc:  # a bug in a channel must not lose the delivery
        log.exception("delivery %s crashed", delivery.pk)
        outcome.error = f"{type(exc).__name__}: {exc}"
    outcome.duration = int((time.monotonic() - clock) * 1000)
    if outcome.error:
        outcome.ref = ""
    return outcome


_threads = {"pool": None, "pid": None}
_threads_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """The process's sending threads. They outlive a batch, so what a client keeps per thread
    (the PSA clients' kept-alive session per integration) serves the next batch too; a forked
    worker process makes its own."""
    with _threads_lock:
        if _threads["pid"] != os.getpid():
            _threads["pool"] = ThreadPoolExecutor(settings.DELIVERY_THREADS, thread_name_prefix="delivery")
            _threads["pid"] = os.getpid()
        return _threads["pool"]


def _drain(waiting, attempt) -> list[Outcome]:
    """On a sending thread: try deliveries from `waiting` until none is left, on a database
    connection of the thread's own, closed at the end (a batch holds no connection after it)."""
    outcomes = []
    try:
        while True:
            try:
                delivery = waiting.get_nowait()
            except queue.Empty:
                return outcomes
            outcomes.append(attempt(delivery))
    finally:
        connection.close()


def _finish_batch(outcomes) -> dict[int, str]:
    """One INSERT for the attempts and one UPDATE for the deliveries, in one transaction."""
    now = timezone.now()
    attempts, rows, states = [], [], {}
    for outcome in outcomes:
        delivery, error = outcome.delivery, outcome.error
        delivery.claimed_until = None
        if outcome.started is None:  # not tried: give it back, due now, its try not spent
            delivery.attempts -= 1
            delivery.next_attempt_at = now
            rows.append(delivery)
            states[delivery.pk] = Delivery.State.PENDING
            continue
        attempts.append(DeliveryAttempt(
            delivery=delivery, started_at=outcome.started, duration_ms=outcome.duration, ok=not error,
            error=error[:2000],
        ))
        delivery.last_error = error[:2000]
        if not error:
            delivery.state, delivery.sent_at, delivery.external_ref = Delivery.State.SENT, now, outcome.ref[:200]
        elif outcome.permanent or delivery.attempts >= settings.DELIVERY_MAX_ATTEMPTS:
            delivery.state = Delivery.State.FAILED
        else:
            wait = max(outcome.retry_after or 0, backoff(delivery.attempts))
            delivery.next_attempt_at = now + timedelta(seconds=wait)
        rows.append(delivery)
        states[delivery.pk] = delivery.state
    with transaction.atomic():
        _insert_attempts(attempts)
        _write_outcomes(rows)
    return states


# What finishing a try writes (claimed_until is cleared); `attempts` too, for a delivery handed back untried.
FINISH_FIELDS = ["last_error", "state", "sent_at", "external_ref", "next_attempt_at", "attempts"]
ATTEMPT_FIELDS = ["delivery", "started_at", "duration_ms", "ok", "error"]


def _write_outcomes(rows):
    """One UPDATE for the batch: from arrays on PostgreSQL (Django's `bulk_update` builds a
    CASE per row and field, which costs more than the sends), `bulk_update` elsewhere."""
    if connection.vendor != "postgresql":
        Delivery.objects.bulk_update(rows, ["claimed_until", *FINISH_FIELDS])
        return
    names, arrays, params = _arrays(Delivery, FINISH_FIELDS, rows)
    columns = ", ".join(f"{name} = v.{name}" for name in names)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Delivery._meta.db_table} AS d SET claimed_until = NULL, {columns} "
            f"FROM unnest(%s::bigint[], {arrays}) AS v(id, {', '.join(names)}) WHERE d.id = v.id",
            [[row.pk for row in rows], *params],
        )


def _insert_attempts(attempts):
    """One INSERT from arrays on PostgreSQL (`bulk_create` binds five parameters a row, and
    binding them costs as much as the statement), `bulk_create` elsewhere."""
    if not attempts:
        return
    if connection.vendor != "postgresql":
        DeliveryAttempt.objects.bulk_create(attempts)
        return
    names, arrays, params = _arrays(DeliveryAttempt, ATTEMPT_FIELDS, attempts)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {DeliveryAttempt._meta.db_table} ({', '.join(names)}) SELECT * FROM unnest({arrays})", params,
        )


def _arrays(model, field_names, objects):
    """Columns, `%s::type[]` casts and one array parameter per column, for `unnest`."""
    fields = [model._meta.get_field(name) for name in field_names]
    names = [f.column for f in fields]
    arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
    return names, arrays, [[getattr(obj, f.attname) for obj in objects] for f in fields]


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
