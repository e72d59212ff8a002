"""Beat's side of the reports: compliance after midnight (R18.1), the digest and the monthly
report (R18.3), and the reports' outbox. Tasks take ids; the database holds the truth
(reports/outbox.py); this is the one module that queues report deliveries."""

import logging

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from notifications.tasks import DELIVERY_TASK
from reports import compliance, digest, outbox

log = logging.getLogger(__name__)


@shared_task(**DELIVERY_TASK)
def deliver(delivery_id):
    return outbox.deliver(delivery_id)


def queue(ids):
    """Send the deliveries to workers once the transaction commits; a broker that is down only
    delays them until the sweep."""
    def send():
        for delivery_id in ids:
            try:
                deliver.delay(delivery_id)
            except Exception:
                log.warning("could not queue report delivery %s; the sweeper will", delivery_id, exc_info=True)

    if ids:
        transaction.on_commit(send)


@shared_task
def sweep():
    """Re-send any due or lease-expired report email (a lost message, a killed worker)."""
    ids = outbox.due()
    for delivery_id in ids:
        deliver.delay(delivery_id)
    return len(ids)


@shared_task
def hourly():
    """Each account's yesterday once it is past midnight in its zone (R18.1), then the digests
    past their hour (R18.3)."""
    now = timezone.now()
    done = {"compliance": compliance.compute_all_due(now)}
    ids = digest.due_digests(now)
    queue(ids)
    done["digests"] = len(ids)
    return done
