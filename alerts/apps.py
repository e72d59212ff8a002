from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"

    def ready(self):
        from alerts import removal

        removal.connect()  # R15.2: a subject's alerts resolve before it goes

        from alerts import panels

        panels.register()  # the organization and appliance pages show alerts without importing alerts
