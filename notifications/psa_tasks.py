"""Beat's read-back of PSA tickets (R19.1): beat nudges `read_back_all` every
PSA_READBACK_SECONDS; it sends one task per enabled PSA integration, so one slow or
rate-limited PSA never holds up another account's. Loaded through CELERY_IMPORTS."""

import logging

from celery import shared_task

from integrations.models import Integration
from integrations.psa.connection import psa_kinds
from notifications import psa_readback

log = logging.getLogger(__name__)


@shared_task
def read_back_all():
    ids = list(Integration.objects.filter(kind__in=psa_kinds(), enabled=True).values_list("pk", flat=True))
    for pk in ids:
        read_back.delay(pk)
    return len(ids)


@shared_task
def read_back(integration_id):
    integration = Integration.objects.filter(pk=integration_id, kind__in=psa_kinds(), enabled=True).first()
    if integration is None:
        return "gone"
    outcome = psa_readback.read_back(integration)
    log.info("PSA read-back of integration %s: %s", integration_id, outcome)
    return outcome
