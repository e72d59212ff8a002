from django.apps import AppConfig


class MaintenanceConfig(AppConfig):
    name = "maintenance"

    def ready(self):
        from maintenance import panels

        panels.register()  # the organization, appliance and asset pages say when a window applies (R16.3)
        from maintenance import due

        due.connect()  # a window saved or removed makes its subjects due
