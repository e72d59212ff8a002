"""Unitrends appliances and the alerts they report themselves (R2.3)."""

from django.db import models

from tenancy.models import Account, Organization
from tenancy.validation import refuse_control_characters


class Appliance(models.Model):
    """A Unitrends backup appliance owned by an organization."""

    class Status(models.TextChoices):
        ONLINE = "online"
        OFFLINE = "offline"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="appliances")
    external_id = models.CharField(max_length=100, validators=[refuse_control_characters])
    name = models.CharField(max_length=200, validators=[refuse_control_characters])
    version = models.CharField(max_length=40, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ONLINE)
    last_contact_at = models.DateTimeField(null=True, blank=True)
    logical_capacity_bytes = models.BigIntegerField(default=0)
    logical_free_bytes = models.BigIntegerField(default=0)
    purge_eligible_backups = models.IntegerField(default=0)
    # When the portal last completed a sync with the appliance (R7.2 "appliance
    # offline / portal cannot reach it"), why the last attempt failed, and where
    # an interrupted sync resumes (integrations.unitrends.poller).
    last_sync_at = models.DateTimeField(null=True, blank=True)
    last_sync_error = models.TextField(blank=True)
    # What the last completed sync skipped (e.g. a job order whose schedule R4.7 refuses).
    last_sync_warning = models.TextField(blank=True)
    sync_cursor = models.JSONField(default=dict, blank=True)
    # R15.2: its Unitrends integration was removed; kept for history, it raises nothing more.
    retired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    tenancy_organization_field = "organization"

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["account", "external_id"], name="appliance_external_id_unique"),
        ]
        indexes = [
            models.Index(fields=["account", "last_contact_at"], name="appliance_contact"),
        ]

    def __str__(self):
        return self.name


class ApplianceAlert(models.Model):
    """An alert the appliance itself reports, in one of the R2.3 categories; `active` while it still lists it."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    appliance = models.ForeignKey(Appliance, on_delete=models.CASCADE, related_name="appliance_alerts")
    external_id = models.CharField(max_length=100)
    category = models.CharField(max_length=32)
    severity = models.CharField(max_length=16, default="warning")
    message = models.TextField()
    reported_at = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    tenancy_organization_field = "appliance__organization"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["appliance", "external_id"], name="appliance_alert_external_id_unique"),
        ]
        indexes = [models.Index(fields=["account", "active"], name="appliance_alert_active")]

    def __str__(self):
        return f"{self.appliance}: {self.message}"


class ApplianceStorageSample(models.Model):
    """The appliance's storage as one poll read it: the storage chart of its page draws these.

    At most one an hour per appliance (integrations.unitrends.steps.appliance.storage); retention
    deletes them after `RETENTION_STORAGE_SAMPLE_DAYS`."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    appliance = models.ForeignKey(Appliance, on_delete=models.CASCADE, related_name="storage_samples")
    at = models.DateTimeField()
    capacity_bytes = models.BigIntegerField()
    free_bytes = models.BigIntegerField()

    tenancy_organization_field = "appliance__organization"

    class Meta:
        indexes = [models.Index(fields=["appliance", "at"], name="storage_sample_by_appliance")]

    def __str__(self):
        return f"{self.appliance} at {self.at:%Y-%m-%d %H:%M}"
