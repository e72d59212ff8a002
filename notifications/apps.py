from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self):
        from alerts import events
        from notifications.outbox import enqueue_for_events

        events.on_events(enqueue_for_events)
        _register_integrations()
        _register_organization_fields()


def _register_integrations():
    """Connection tests and credential names of the kinds this room speaks to (R13.3, R13.4)."""
    from integrations.registry import CONNECTION_TESTS, CREDENTIAL_FIELDS
    from notifications.channels import autotask, bms, connectwise, vorex

    for kind, module in (("connectwise", connectwise), ("autotask", autotask), ("bms", bms), ("vorex", vorex)):
        CONNECTION_TESTS[kind] = module.test_connection
        CREDENTIAL_FIELDS[kind] = module.CREDENTIALS


def _register_organization_fields():
    from notifications.extensions import PsaCompanyExtension
    from tenancy.serializers import ORGANIZATION_EXTENSIONS

    if not any(e.name == "psa_company" for e in ORGANIZATION_EXTENSIONS):
        ORGANIZATION_EXTENSIONS.append(PsaCompanyExtension())
