from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "tenancy"
    verbose_name = "Tenancy"

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_save

        from tenancy import schema  # noqa: F401 (registers the OpenAPI auth scheme)
        from tenancy.models import revoke_tokens_of_inactive_user

        post_save.connect(revoke_tokens_of_inactive_user, sender=get_user_model(), dispatch_uid="tenancy:revoke-inactive")
