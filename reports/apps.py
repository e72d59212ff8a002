from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"

    def ready(self):
        from reports import panels

        panels.register()  # the organization page shows compliance without importing reports
