"""Syncs asked for from a page or the API run as background jobs, not in the request."""

from celery import shared_task

from integrations.models import Integration
from integrations.pollers import poll
from integrations.saas import poll_saas
from integrations.unitrends.poller import sync_all, sync_one
from tenancy import background
from tenancy.models import BackgroundJob

# The vendors' beat tasks live in their packages; named here so a worker's autodiscovery finds them.
__all__ = ["poll_saas", "run_sync_job", "start_sync", "sync_all", "sync_one"]


@shared_task
def run_sync_job(job_id):
    background.run(job_id, _sync)


def _sync(job):
    integration = Integration.objects.filter(account=job.account, pk=job.params.get("integration")).first()
    if integration is None:
        return False, "The integration was removed before its sync could run.", {}
    message = poll(integration)
    integration.refresh_from_db()
    ok = bool(integration.last_sync_ok)
    return ok, message, {"ok": ok, "message": message, "integration": integration.pk}


def start_sync(integration, user, wait=False):
    """Sync one integration now in a worker; answers the job."""
    return background.start(integration.account, user, BackgroundJob.Kind.SYNC, f"Sync of {integration}",
                            run_sync_job, _sync, params={"integration": integration.pk}, wait=wait)
