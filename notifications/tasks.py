"""Celery tasks of the outbox, and the one place that queues them. They take primary keys;
the database holds the truth (`notifications.outbox`)."""

import logging

from celery import shared_task
from django.conf import settings
from django.db import transaction

from notifications import outbox

log = logging.getLogger(__name__)


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    # Below the lease, so a stuck try is killed before another worker may claim it.
    soft_time_limit=max(30, settings.DELIVERY_LEASE_SECONDS - 60),
    time_limit=max(40, settings.DELIVERY_LEASE_SECONDS - 30),
)
def deliver(delivery_id):
    return outbox.deliver(delivery_id)


@shared_task
def sweep():
    """Invariant 3: re-send any due or lease-expired delivery (lost message, killed worker)."""
    ids = outbox.due()
    for delivery_id in ids:
        deliver.delay(delivery_id)
    return len(ids)


def queue(ids):
    """Send each delivery to a worker; a broker that is down only delays it until the sweep."""
    for delivery_id in ids:
        try:
            deliver.delay(delivery_id)
        except Exception:  # broker down: the sweeper will send it
            log.warning("could not queue delivery %s; the sweeper will", delivery_id, exc_info=True)


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
