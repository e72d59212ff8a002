"""What an appliance protects: assets (machines, databases, shares) and their backup schedules (R4)."""

from django.db import models

from inventory.models.appliances import Appliance
from tenancy.models import Account, Organization
from tenancy.validation import refuse_control_characters


class AssetType(models.TextChoices):
    VMWARE = "vmware", "VMware virtual machine"
    HYPERV = "hyperv", "Hyper-V virtual machine"
    WINDOWS = "windows", "Windows agent"
    SQL = "sql", "SQL Server database"
    EXCHANGE = "exchange", "Exchange database"
    ORACLE = "oracle", "Oracle database"
    NAS = "nas", "NAS share"
    OS = "os", "Linux or other agent"


class Asset(models.Model):
    """A protected machine on an appliance. Its organization is the appliance's."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    appliance = models.ForeignKey(Appliance, on_delete=models.CASCADE, related_name="assets")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="assets")
    external_id = models.CharField(max_length=100, validators=[refuse_control_characters])
    name = models.CharField(max_length=200, validators=[refuse_control_characters])
    type = models.CharField(max_length=16, choices=AssetType.choices)
    hot_copy = models.BooleanField(default=False, help_text="Its backups are hot-copied (R6).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    tenancy_organization_field = "organization"

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["appliance", "external_id"], name="asset_external_id_unique"),
        ]
        indexes = [
            models.Index(fields=["account", "organization"], name="asset_account_org"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.organization_id = self.appliance.organization_id
        self.account_id = self.appliance.account_id
        super().save(*args, **kwargs)

    @property
    def backup_schedule(self):
        """The first of its schedules (None without one): what a single-schedule reader
        saw before an asset could have several (R4.7). Uses a prefetch when there is one."""
        return next(iter(self.backup_schedules.all()), None)


class BackupSchedule(models.Model):
    """When one of an asset's backup jobs starts: an RFC 5545 recurrence in the appliance's
    time zone. An asset may have several (R4.7), e.g. a daily incremental and a weekly full
    job order; R5.1 reads the latest due start over all of them."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="backup_schedules")
    name = models.CharField(max_length=200, blank=True, help_text="e.g. the job order's name: Daily incremental")
    rrule = models.CharField(max_length=500, help_text="e.g. FREQ=DAILY;BYHOUR=22;BYMINUTE=0")
    # Local wall-clock time of the appliance, kept naive on purpose: a schedule
    # follows the appliance's clock across daylight-saving changes.
    dtstart = models.CharField(max_length=19, help_text="First start, local time: 2026-11-01T22:00:00")

    tenancy_organization_field = "asset__organization"

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.asset}: {self.name or self.rrule}"
