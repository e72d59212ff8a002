from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"

    def ready(self):
        from django.conf import settings
        from django.db.models.signals import post_delete

        from integrations import saas, url_guard
        from integrations.models import Integration
        from integrations.unitrends import jobs
        from inventory.signals import job_cancel_requested

        # Fails the start, loudly, when OUTBOUND_ALLOW_CIDRS would open loopback or link-local.
        url_guard.validate_allowed_networks(settings.OUTBOUND_ALLOW_CIDRS)
        post_delete.connect(saas.forget_integration, sender=Integration, dispatch_uid="saas-forget")
        # R12.2: a job's cancel goes to its appliance.
        job_cancel_requested.connect(jobs.on_cancel_requested, dispatch_uid="unitrends-cancel-job")
