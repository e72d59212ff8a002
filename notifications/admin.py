from django.contrib import admin

from notifications.models import Delivery


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "channel", "state", "attempts", "next_attempt_at", "last_error"]
    list_filter = ["state", "channel"]
