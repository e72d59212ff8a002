"""R12.2: cancelling a running job on its appliance, asked for by inventory's
`job_cancel_requested` signal (inventory does not import integrations)."""

from django.utils import timezone

from integrations import http
from integrations.models import Integration
from integrations.unitrends.client import UnitrendsClient
from inventory.asset_detail import CancelFailed
from inventory.models import Job


def cancel_job(job, now=None) -> Job:
    """R12.2: send the cancel to the appliance, then confirm by reading its active jobs."""
    now = now or timezone.now()
    integration = Integration.objects.filter(
        account_id=job.account_id, kind=Integration.Kind.UNITRENDS, options__appliance=job.appliance_id).first()
    if integration is None:
        raise CancelFailed("This appliance is not connected through an integration, so its jobs cannot be cancelled here.")
    client = UnitrendsClient.for_integration(integration)
    try:
        client.cancel_job(job.external_id)
    except http.VendorError as exc:
        sent_error = exc  # ambiguous (e.g. the connection dropped after acting): the active list decides
    else:
        sent_error = None
    try:
        still_active = {str(row.get("id")) for row in client.active_jobs()}
    except http.VendorError as exc:
        raise CancelFailed(f"The cancel could not be confirmed: {exc}") from exc
    if job.external_id in still_active:
        if sent_error is not None:
            raise CancelFailed(f"The appliance did not cancel the job: {sent_error}")
        Job.objects.filter(pk=job.pk).update(state=Job.State.CANCELLING)
    else:
        Job.objects.filter(pk=job.pk).update(state=Job.State.CANCELLED, finished_at=now)
    job.refresh_from_db()
    return job


def on_cancel_requested(sender, job, **kwargs) -> Job:
    """The `inventory.signals.job_cancel_requested` receiver (connected in IntegrationsConfig.ready)."""
    return cancel_job(job)
