from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self):
        from alerts.events import events_recorded
        from notifications.tasks import send_deliveries_for

        events_recorded.connect(send_deliveries_for, dispatch_uid="notifications:deliveries")
        _register_integrations()
        _register_organization_fields()


def _register_integrations():
    """Connection tests and credential names of the kinds this room speaks to (R13.3, R13.4)."""
    from integrations import vsa
    from integrations.forms import OPTION_FIELDS
    from integrations.registry import CONNECTION_TESTS, CREDENTIAL_FIELDS, SAVE_CHECKS
    from notifications.channels import autotask, bms, connectwise, vorex
    from notifications.channels import vsa as vsa_channel
    from notifications.psa import OPTION_FIELDS as PSA_OPTIONS
    from notifications.psa import PSA_KINDS
    from notifications.psa import save_check as psa_save_check

    for kind, module in (("connectwise", connectwise), ("autotask", autotask), ("bms", bms), ("vorex", vorex)):
        CONNECTION_TESTS[kind] = module.test_connection
        CREDENTIAL_FIELDS[kind] = module.CREDENTIALS
        SAVE_CHECKS[kind] = psa_save_check
    CONNECTION_TESTS["vsa9"] = vsa.test_connection
    CREDENTIAL_FIELDS["vsa9"] = vsa.CREDENTIALS
    SAVE_CHECKS["vsa9"] = vsa.test_connection  # R13.4: a VSA 10 is refused on save too
    for kind in PSA_KINDS:
        OPTION_FIELDS[kind] = PSA_OPTIONS
    OPTION_FIELDS["vsa9"] = vsa_channel.OPTION_FIELDS


def _register_organization_fields():
    from notifications.extensions import PsaCompanyExtension
    from tenancy.serializers import ORGANIZATION_EXTENSIONS

    if not any(e.name == "psa_company" for e in ORGANIZATION_EXTENSIONS):
        ORGANIZATION_EXTENSIONS.append(PsaCompanyExtension())
