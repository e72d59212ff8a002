"""Beat's daily retention run (observability/retention.py)."""

import logging

from celery import shared_task
from django.utils import timezone

from observability import retention

log = logging.getLogger(__name__)


@shared_task(name="observability.tasks.prune")
def prune():
    for pruned in retention.prune(timezone.now()):
        log.info(pruned.sentence(dry_run=False))
