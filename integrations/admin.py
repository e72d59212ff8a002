from django.contrib import admin

from integrations.models import Integration


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "account", "enabled", "last_sync_at", "last_sync_ok"]
    exclude = ["credentials"]
