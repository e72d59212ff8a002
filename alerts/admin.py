from django.contrib import admin

from alerts.models import Alert, AlertEvent, AlertSettings, Evaluation


class AlertEventInline(admin.TabularInline):
    model = AlertEvent
    extra = 0
    readonly_fields = ["type", "at", "actor", "reason"]


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["ref", "title", "kind", "state", "organization", "raised_at"]
    list_filter = ["state", "kind", "account"]
    search_fields = ["title", "fingerprint"]
    inlines = [AlertEventInline]


admin.site.register(AlertSettings)
admin.site.register(Evaluation)
