from django.apps import AppConfig
from django.db.models.signals import post_migrate


class InventoryConfig(AppConfig):
    name = "inventory"

    def ready(self):
        from inventory import panels

        panels.register()  # the organization page shows inventory without importing inventory
        from inventory import due

        due.connect()  # what changes an asset's facts makes it due (evaluation by due time)
        from inventory import next_check_triggers

        post_migrate.connect(next_check_triggers.installed_after_migrate, sender=self,
                             dispatch_uid="inventory-next-check-triggers")
