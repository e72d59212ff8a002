"""What every SaaS poller shares (Spanning, Datto): the R9.2 sync health around a poll, one
poll of an integration at a time, the evaluation after it, and the hourly poll of them all.

Each vendor's poller reads everything from the vendor first and writes in one transaction,
so a failed poll leaves the previous data as it was; `integrations.pollers.poll` records
the failure on the Integration, and `SyncHealth` keeps the R9.2 reason. After new statuses
or assets are stored the account is evaluated (R14.1).
"""

import logging

from celery import shared_task
from django.utils import timezone

from integrations import kinds
from integrations.http import InvalidCredentials, QuotaReached, VendorError
from inventory.models import AzureAsset, DattoClient, SaasSource, SyncHealth
from inventory.signals import ask_evaluation
from tenancy import locks

log = logging.getLogger(__name__)


def saas_kinds() -> tuple[str, ...]:
    return kinds.with_role(kinds.SAAS)


def with_health(poller):
    """Record R9.2 reasons around a poll: failures add theirs, only a success clears them. One poll
    of an integration at a time (a session advisory lock, like an appliance's sync)."""

    def run(integration, now):
        with locks.session_lock(locks.SAAS_POLL, integration.pk) as mine:
            if not mine:  # two polls at once would race on the same rows (and the R15.3 hold): one is enough
                return "another poll of this integration is running; nothing done"
            try:
                summary = poller(integration, now)
            except VendorError as exc:
                _record(integration, now, exc)
                _evaluate(integration.account, now)
                raise
            _record(integration, now, None)
            _evaluate(integration.account, now)  # also when nothing changed: a cleared reason resolves
            return summary

    return run


def _record(integration, now, error):
    health, _ = SyncHealth.objects.get_or_create(
        account=integration.account, integration_id=integration.pk,
        defaults={"integration_kind": integration.kind, "integration_name": integration.name},
    )
    reasons = [] if error is None else list(health.open_reasons)
    if isinstance(error, (InvalidCredentials, QuotaReached)) and error.reason not in reasons:
        reasons.append(error.reason)
    health.open_reasons, health.last_error, health.checked_at = reasons, "" if error is None else str(error), now
    health.integration_kind, health.integration_name = integration.kind, integration.name
    health.save()


def _evaluate(account, now):
    ask_evaluation(account, now)  # R15.6: queued if a run holds the account


@shared_task(name="integrations.saas_pollers.poll_saas")
def poll_saas():
    """Hourly (beat): every enabled Spanning and Datto integration."""
    from integrations.models import Integration
    from integrations.pollers import poll

    now = timezone.now()
    for integration in Integration.objects.filter(kind__in=saas_kinds(), enabled=True).select_related("account"):
        log.info(poll(integration, now))


def forget_integration(sender, instance, **kwargs):
    """An integration removed takes its sources, clients, assets and sync health with it;
    their alerts resolve at the next evaluation (R8.1, R9.2: nothing left to alert on)."""
    if instance.kind not in saas_kinds():
        return
    for model in (SaasSource, AzureAsset, DattoClient, SyncHealth):
        model.objects.filter(account_id=instance.account_id, integration_id=instance.pk).delete()
