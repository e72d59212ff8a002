from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"

    def ready(self):
        from integrations import appliance_sync

        appliance_sync.register()  # Unitrends appliances
