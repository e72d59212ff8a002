"""Alerts, their append-only history, and the account's alert settings."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from alerts.categories import KINDS, default_category_toggles
from alerts.conditions import alert_content_hash
from alerts.severity import CRITICAL, INFO, WARNING
from inventory.models import Appliance, Asset
from tenancy.models import Account, Organization


class AlertState(models.TextChoices):
    OPEN = "open"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"


class Severity(models.TextChoices):
    """R20.1: how bad an alert is (alerts/severity.py decides, kind by kind)."""

    CRITICAL = CRITICAL
    WARNING = WARNING
    INFO = INFO


class Alert(models.Model):
    """The record of a condition: raised, then resolved (cleared) or dismissed (by a person)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="alerts")
    fingerprint = models.CharField(max_length=255)
    kind = models.CharField(max_length=32, choices=list(KINDS.items()))
    category = models.CharField(max_length=32, blank=True)
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.WARNING)
    # R15.2: removing an organization keeps its alerts' history; the name stays as it was.
    organization = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts"
    )
    organization_name = models.CharField(max_length=200, blank=True)
    appliance = models.ForeignKey(Appliance, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    asset = models.ForeignKey(Asset, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    subject = models.CharField(max_length=255)
    title = models.CharField(max_length=300)
    group_key = models.CharField(max_length=255)
    group_label = models.CharField(max_length=300)
    state = models.CharField(max_length=16, choices=AlertState.choices, default=AlertState.OPEN)
    raised_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_reason = models.CharField(max_length=32, blank=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    dismiss_reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    links = models.JSONField(default=dict, blank=True)
    # Issue 17: title, details and links in one value, so a cycle compares a kept alert with its
    # condition without reading its JSON (alerts.conditions.content_hash).
    details_hash = models.CharField(max_length=64, blank=True, default="")

    tenancy_organization_field = "organization"

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [
            # Invariant 1 / R14.2: one open alert per fingerprint, held by the database.
            models.UniqueConstraint(
                fields=["account", "fingerprint"],
                condition=Q(state="open"),
                name="one_open_alert_per_fingerprint",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "state", "group_key"], name="alert_account_state_group"),
            models.Index(fields=["account", "kind", "state"], name="alert_account_kind_state"),
            models.Index(fields=["account", "fingerprint", "-dismissed_at"], name="alert_quiet_lookup"),
            # Issue 7: the alert list's pages (newest id first), by state and by organization + state.
            models.Index(fields=["account", "state", "-id"], name="alert_list_by_state"),
            models.Index(fields=["account", "organization", "state", "-id"], name="alert_list_by_org"),
            models.Index(fields=["account", "state", "severity", "-id"], name="alert_list_by_severity"),
        ]

    def __str__(self):
        return f"{self.ref} {self.title}"

    def save(self, *args, **kwargs):
        content = {"title", "details", "links"}
        update_fields = kwargs.get("update_fields")
        if not content & self.get_deferred_fields() and (update_fields is None or content & set(update_fields)):
            self.details_hash = alert_content_hash(self.title, self.details, self.links)
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "details_hash"}
        super().save(*args, **kwargs)

    @property
    def ref(self) -> str:
        """A short reference that travels into tickets and emails."""
        return f"UV-{self.pk}"

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)


class AlertEvent(models.Model):
    """One lifecycle change of an alert (R13.1), append-only; the outbox hangs off it."""

    class Type(models.TextChoices):
        RAISED = "raised"
        RESOLVED = "resolved"
        DISMISSED = "dismissed"
        MOVED = "moved"  # R15.1: history only, fans nothing out

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=16, choices=Type.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(blank=True)

    tenancy_organization_field = "alert__organization"

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["alert", "at"], name="alert_event_by_alert")]


class AlertSettings(models.Model):
    """The account's alert settings: category toggles (R2.1), purging (R10.2), re-alert interval (R11.4), email list (R13.2)."""

    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="alert_settings")
    categories = models.JSONField(default=default_category_toggles)
    purging_alerts = models.BooleanField(default=True)
    realert_hours = models.PositiveIntegerField(default=24)
    emails = models.JSONField(default=list, blank=True)

    tenancy_organization_field = None

    @classmethod
    def for_account(cls, account):
        settings_row, _ = cls.objects.get_or_create(account=account)
        return settings_row

    def category_enabled(self, category: str) -> bool:
        return self.categories.get(category, True)


class Evaluation(models.Model):
    """One run of the rules for an account at a `now` (R14.1): what it did and how long it took."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    now = models.DateTimeField()
    started_at = models.DateTimeField(auto_now_add=True)
    duration_ms = models.PositiveIntegerField(default=0)
    raised = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)
    kept = models.PositiveIntegerField(default=0)
    skipped = models.BooleanField(default=False, help_text="Another run held the account's lock.")

    class Meta:
        ordering = ["-started_at"]


class EvaluationRequest(models.Model):
    """An on-demand evaluation asked for while another run held the account (R15.6).

    `generation` counts the requests; a run deletes the row only if no request came
    after it took the lock, so a request is never lost, and many coalesce into one run.
    """

    account = models.OneToOneField(Account, on_delete=models.CASCADE, primary_key=True, related_name="+")
    generation = models.PositiveBigIntegerField(default=1)
    requested_at = models.DateTimeField()
