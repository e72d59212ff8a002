from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"

    def ready(self):
        from alerts.removal import resolve_leaving
        from tenancy import removal

        removal.on_leaving(resolve_leaving)  # R15.2: a subject's alerts resolve before it goes
