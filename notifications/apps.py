from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self):
        from alerts import events
        from notifications.outbox import enqueue_for_events

        events.on_events(enqueue_for_events)
        _register_organization_fields()


def _register_organization_fields():
    from notifications.extensions import PsaCompanyExtension
    from tenancy.serializers import ORGANIZATION_EXTENSIONS

    if not any(e.name == "psa_company" for e in ORGANIZATION_EXTENSIONS):
        ORGANIZATION_EXTENSIONS.append(PsaCompanyExtension())
