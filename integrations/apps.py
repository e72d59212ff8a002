from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"

    def ready(self):
        from django.conf import settings

        from integrations import url_guard

        # Fails the start, loudly, when OUTBOUND_ALLOW_CIDRS would open loopback or link-local.
        url_guard.validate_allowed_networks(settings.OUTBOUND_ALLOW_CIDRS)
        # The SaaS vendors register their connection tests, credential names and pollers.
        from django.db.models.signals import post_delete

        from integrations import pollers, registry, saas_pollers
        from integrations.models import Integration

        for kind in (*saas_pollers.SPANNING_KINDS, "datto"):
            registry.CONNECTION_TESTS[kind] = saas_pollers.connection_test
            registry.CREDENTIAL_FIELDS[kind] = saas_pollers.CREDENTIAL_FIELDS[kind]
            pollers.POLLERS[kind] = saas_pollers.poll_datto if kind == "datto" else saas_pollers.poll_spanning
        from integrations import appliance_sync

        appliance_sync.register()  # Unitrends appliances
        post_delete.connect(saas_pollers.forget_integration, sender=Integration, dispatch_uid="saas-forget")
