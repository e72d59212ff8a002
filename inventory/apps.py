from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"

    def ready(self):
        from inventory import panels

        panels.register()  # the organization page shows inventory without importing inventory
        from inventory import due

        due.connect()  # what changes an asset's facts makes it due (evaluation by due time)
