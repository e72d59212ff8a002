"""What is protected and how: appliances, assets, schedules, backups, copies,
jobs, SaaS sources with their daily status, and Azure assets.

Rules read these tables set-wise, so every index leads with the account or the
asset and matches a rule's query.
"""

from django.db import models
from django.db.models import Q

from tenancy.models import Account, Organization
from tenancy.validation import refuse_control_characters

GOOD_STATUSES = ("success", "warning")  # R5: a "good" backup or copy


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
        indexes = [models.Index(fields=["account", "last_contact_at"], name="appliance_contact")]

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
        indexes = [models.Index(fields=["account", "organization"], name="asset_account_org")]

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


class Backup(models.Model):
    """A local recovery point of an asset."""

    class Type(models.TextChoices):
        FULL = "full"
        INCREMENTAL = "incremental"
        DIFFERENTIAL = "differential"
        SELECTIVE = "selective"

    class Status(models.TextChoices):
        SUCCESS = "success"
        WARNING = "warning"
        FAILED = "failed"
        CANCELLED = "cancelled"
        RUNNING = "running"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="backups")
    external_id = models.CharField(max_length=100)
    type = models.CharField(max_length=16, choices=Type.choices, default=Type.FULL)
    status = models.CharField(max_length=16, choices=Status.choices)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    size_bytes = models.BigIntegerField(default=0)
    error = models.TextField(blank=True)
    certified_at = models.DateTimeField(null=True, blank=True)

    tenancy_organization_field = "asset__organization"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["asset", "external_id"], name="backup_external_id_unique"),
        ]
        indexes = [
            # R5: the newest good backup per asset.
            models.Index(
                fields=["asset", "-finished_at"],
                name="backup_good_by_asset",
                condition=Q(status__in=GOOD_STATUSES),
            ),
            models.Index(fields=["asset", "-started_at"], name="backup_by_asset_started"),
        ]


class BackupCopy(models.Model):
    """A copy of a backup: hot (Unitrends Cloud, secondary appliance) or cold (cloud storage, tape, NAS)."""

    class Target(models.TextChoices):
        HOT = "hot", "Hot copy (Unitrends Cloud or a secondary appliance)"
        COLD = "cold", "Cold copy (cloud storage, tape or NAS)"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="copies")
    backup = models.ForeignKey(Backup, on_delete=models.CASCADE, related_name="copies")
    external_id = models.CharField(max_length=100)
    target = models.CharField(max_length=4, choices=Target.choices)
    status = models.CharField(max_length=16, choices=Backup.Status.choices)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    tenancy_organization_field = "asset__organization"

    class Meta:
        verbose_name_plural = "backup copies"
        constraints = [
            models.UniqueConstraint(fields=["asset", "external_id"], name="copy_external_id_unique"),
        ]
        indexes = [
            # R6: the newest good hot copy per asset.
            models.Index(
                fields=["asset", "-finished_at"],
                name="copy_good_hot_by_asset",
                condition=Q(status__in=GOOD_STATUSES, target="hot"),
            ),
        ]


class Job(models.Model):
    """A job on an appliance: a backup, copy or certification running or done (R12.2)."""

    class State(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        FINISHED = "finished"
        FAILED = "failed"
        CANCELLING = "cancelling"
        CANCELLED = "cancelled"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    appliance = models.ForeignKey(Appliance, on_delete=models.CASCADE, related_name="jobs")
    asset = models.ForeignKey(Asset, on_delete=models.SET_NULL, null=True, blank=True, related_name="jobs")
    backup = models.ForeignKey(Backup, on_delete=models.SET_NULL, null=True, blank=True, related_name="jobs")
    external_id = models.CharField(max_length=100)
    kind = models.CharField(max_length=32, default="backup")
    state = models.CharField(max_length=16, choices=State.choices)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    progress_percent = models.PositiveSmallIntegerField(default=0)
    details = models.JSONField(default=dict, blank=True)

    tenancy_organization_field = "appliance__organization"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["appliance", "external_id"], name="job_external_id_unique"),
        ]
        indexes = [models.Index(fields=["account", "state"], name="job_account_state")]


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
