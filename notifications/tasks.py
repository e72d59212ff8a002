"""Celery tasks of the outbox, and the one place that queues them. They take primary keys;
the database holds the truth (`notifications.outbox`)."""

import logging
import time

from celery import shared_task
from django.conf import settings
from django.db import transaction

from notifications import outbox

log = logging.getLogger(__name__)

# Below the lease, so a stuck try is killed before another worker may claim it.
SOFT_TIME_LIMIT = max(30, settings.DELIVERY_LEASE_SECONDS - 60)
TIME_LIMIT = max(40, settings.DELIVERY_LEASE_SECONDS - 30)
# A batch starts no send later than this into its run: a send begun before it ends (its
# client's timeouts) before the soft time limit; what is left is handed back, due at once.
START_SENDS_WITHIN = max(10, SOFT_TIME_LIMIT - 60)

DELIVERY_TASK = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "soft_time_limit": SOFT_TIME_LIMIT,
    "time_limit": TIME_LIMIT,
}


@shared_task(**DELIVERY_TASK)
def deliver(delivery_id):
    """One delivery: the task of messages queued before batching; still served."""
    return outbox.deliver(delivery_id)


@shared_task(**DELIVERY_TASK)
def deliver_batch(delivery_ids):
    """A batch of deliveries under one lease (`outbox.deliver_batch`). Answers how many of
    them ended in each state."""
    states = outbox.deliver_batch(delivery_ids, deadline=time.monotonic() + START_SENDS_WITHIN)
    counts = {}
    for state in states.values():
        counts[state] = counts.get(state, 0) + 1
    return counts


def batches(ids):
    size = max(1, settings.DELIVERY_BATCH_SIZE)
    ids = list(ids)
    return [ids[start:start + size] for start in range(0, len(ids), size)]


@shared_task
def sweep():
    """Invariant 3: re-send any due or lease-expired delivery (lost message, killed worker)."""
    ids = outbox.due()
    for batch in batches(ids):
        deliver_batch.delay(batch)
    return len(ids)


def queue(ids):
    """Send the deliveries to workers, a batch per task; a broker that is down only delays
    them until the sweep."""
    for batch in batches(ids):
        try:
            deliver_batch.delay(batch)
        except Exception:  # broker down: the sweeper will send them
            log.warning("could not queue deliveries %s; the sweeper will", batch, exc_info=True)


def send_deliveries_for(sender, events, **kwargs):
    """Receiver of `alerts.events.events_recorded`: the deliveries are written in the events'
    transaction and queued once it commits."""
    ids = outbox.enqueue_for_events(events)
    if ids:
        transaction.on_commit(lambda: queue(ids))


def retry_by_hand(delivery) -> bool:
    """R13.5: a failed delivery gets a fresh set of tries, queued once the change commits."""
    if not outbox.reopen_failed(delivery):
        return False
    transaction.on_commit(lambda: queue([delivery.pk]))
    return True
