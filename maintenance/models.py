"""Maintenance windows (R16): when the subjects in a window's scope raise nothing."""

from django.db import models

from inventory.models import Appliance, Asset
from tenancy.models import Account, Organization


class MaintenanceWindow(models.Model):
    """R16.1: a name, a scope, a time zone, and either a start and an end (one-off) or a
    recurrence (an RFC 5545 RRULE from `starts_at`, the first occurrence) with a duration.
    Occurrences are computed in the window's zone (maintenance/occurrences.py)."""

    class Scope(models.TextChoices):
        ACCOUNT = "account", "The whole account"
        ORGANIZATIONS = "organizations", "Organizations"
        APPLIANCES = "appliances", "Appliances"
        ASSETS = "assets", "Assets"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    scope = models.CharField(max_length=16, choices=Scope.choices, default=Scope.ACCOUNT)
    organizations = models.ManyToManyField(Organization, blank=True, related_name="+")
    appliances = models.ManyToManyField(Appliance, blank=True, related_name="+")
    assets = models.ManyToManyField(Asset, blank=True, related_name="+")
    timezone = models.CharField(max_length=64, default="UTC")
    starts_at = models.DateTimeField(help_text="The start (one-off), or the first occurrence's start (recurring).")
    ends_at = models.DateTimeField(null=True, blank=True, help_text="The end of a one-off window.")
    rrule = models.CharField(max_length=500, blank=True, help_text="RFC 5545 recurrence, e.g. FREQ=WEEKLY;BYDAY=SU.")
    duration_minutes = models.PositiveIntegerField(null=True, blank=True, help_text="How long each occurrence lasts.")
    # R16.2: how many conditions held back in an occurrence had cleared by its end, by the
    # occurrence's start (ISO, UTC).
    cleared_counts = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    tenancy_organization_field = None  # R16.1: everyone in the account sees every window

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["account"], name="maintenance_window_account")]

    def __str__(self):
        return self.name

    @property
    def recurring(self) -> bool:
        return bool(self.rrule)

    @property
    def cleared_total(self) -> int:
        return sum(int(n) for n in (self.cleared_counts or {}).values())


class MaintenanceHold(models.Model):
    """A condition held back by an occurrence of a window (R16.2); once the occurrence is over,
    those with no open alert are counted on the window as cleared inside it, and the rows go."""

    window = models.ForeignKey(MaintenanceWindow, on_delete=models.CASCADE, related_name="+")
    occurrence_start = models.DateTimeField()
    occurrence_end = models.DateTimeField()
    fingerprint = models.CharField(max_length=255)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["window", "occurrence_start", "fingerprint"], name="one_hold_per_occurrence"),
        ]
        indexes = [models.Index(fields=["occurrence_end"], name="maintenance_hold_end")]
