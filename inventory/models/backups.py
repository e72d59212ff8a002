"""Backups, their hot and cold copies, and the appliance's job queue (R5, R6).

Indexes lead with the asset and match the rules' queries (alerts/rules/backup_queries.py); on
PostgreSQL, block-range indexes on when each backup started and finished let the compliance
history read a day's backups (migration inventory/0011).
"""

from django.db import models
from django.db.models import Q

from inventory.models.appliances import Appliance
from inventory.models.assets import Asset
from tenancy.models import Account

GOOD_STATUSES = ("success", "warning")  # R5: a "good" backup or copy


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
