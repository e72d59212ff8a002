from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self):
        from alerts.events import events_recorded, grouped
        from notifications.grouping import withdraw
        from notifications.tasks import send_deliveries_for

        events_recorded.connect(send_deliveries_for, dispatch_uid="notifications:deliveries")
        grouped.connect(withdraw, dispatch_uid="notifications:grouped")  # R17.1
        _register_organization_fields()


def _register_organization_fields():
    from notifications.extensions import PsaCompanyExtension, PsaCompanyMissingExtension
    from tenancy.serializers import ORGANIZATION_EXTENSIONS

    for extension in (PsaCompanyExtension(), PsaCompanyMissingExtension()):
        if not any(e.name == extension.name for e in ORGANIZATION_EXTENSIONS):
            ORGANIZATION_EXTENSIONS.append(extension)
