"""Celery tasks of the outbox. They take primary keys; the database holds the truth."""

from celery import shared_task
from django.conf import settings

from notifications import outbox


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
