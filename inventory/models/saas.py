"""Cloud sources: Spanning SaaS sources with their daily status (R8), Datto Azure assets and
clients (R9), and the health of the polls that fill them (R9.2)."""

from django.db import models

from tenancy.models import Account, Organization
from tenancy.validation import refuse_control_characters


class SaasSource(models.Model):
    """A Spanning-protected Microsoft 365 tenant, Google Workspace domain or Salesforce org (R8.1)."""

    class Kind(models.TextChoices):
        M365 = "m365", "Microsoft 365 tenant"
        GWS = "gws", "Google Workspace domain"
        SALESFORCE = "salesforce", "Salesforce organization"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, blank=True, related_name="saas_sources"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=200, validators=[refuse_control_characters])
    external_id = models.CharField(max_length=200, validators=[refuse_control_characters])
    integration_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Figures the vendor API gives (M365 `/tenant`, Google `/users`); null where it gives none.
    licenses = models.PositiveIntegerField(null=True, blank=True)
    users = models.PositiveIntegerField(null=True, blank=True)
    assigned = models.PositiveIntegerField(null=True, blank=True)
    license_status = models.CharField(max_length=32, blank=True)
    # R8.7 "module" link: the Spanning app this source lives in (region-specific).
    app_url = models.URLField(blank=True)

    tenancy_organization_field = "organization"

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["account", "kind", "external_id"], name="saas_source_unique"),
        ]


class SaasDailyStatus(models.Model):
    """One day's backup result of a SaaS source, overall and per service (R8.2)."""

    class Status(models.TextChoices):
        SUCCESSFUL = "Successful"
        PARTIAL = "Partial"
        FAILED = "Failed"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    source = models.ForeignKey(SaasSource, on_delete=models.CASCADE, related_name="daily_statuses")
    date = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices)
    services = models.JSONField(default=dict, blank=True)

    tenancy_organization_field = "source__organization"

    class Meta:
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(fields=["source", "date"], name="saas_status_one_per_day"),
        ]


class AzureAsset(models.Model):
    """A Microsoft Azure VM protected by Datto Backup for Microsoft Azure (R9)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, blank=True, related_name="azure_assets"
    )
    integration_id = models.BigIntegerField(null=True, blank=True)
    client_external_id = models.CharField(max_length=100)
    client_name = models.CharField(max_length=200)
    external_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    module = models.CharField(max_length=100, default="Datto Backup for Microsoft Azure")
    last_successful_backup_at = models.DateTimeField(null=True, blank=True)
    resource_group = models.CharField(max_length=200, blank=True)
    last_backup_status = models.CharField(max_length=32, blank=True)
    last_backup_at = models.DateTimeField(null=True, blank=True)

    tenancy_organization_field = "organization"

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["account", "external_id"], name="azure_asset_unique"),
        ]


class DattoClient(models.Model):
    """A Datto Portal client and the organization it maps to (R9.1: auto-mapped once, then editable)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, blank=True, related_name="datto_clients"
    )
    integration_id = models.BigIntegerField(null=True, blank=True)
    external_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200)

    tenancy_organization_field = "organization"

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["account", "integration_id", "external_id"], name="datto_client_unique"),
        ]


class SyncHealth(models.Model):
    """Why an integration's polls fail, as inventory facts the rules can read (R9.2).

    `open_reasons` gathers `invalid_credentials` / `quota` failures since the last
    successful sync; only a successful sync empties it.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    integration_id = models.BigIntegerField()
    integration_kind = models.CharField(max_length=32)
    integration_name = models.CharField(max_length=200)
    open_reasons = models.JSONField(default=list, blank=True)
    last_error = models.TextField(blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "integration_id"], name="sync_health_unique"),
        ]
