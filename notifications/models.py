"""The outbox: one Delivery per (event, channel target), and one Attempt per try."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from alerts.models import Alert, AlertEvent
from integrations.crypto import EncryptedJSONField
from integrations.models import Integration
from tenancy.models import Account, Organization
from tenancy.validation import refuse_control_characters


class Delivery(models.Model):
    """Something that must reach a channel. PostgreSQL owns it; Celery only carries the nudge."""

    class State(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(AlertEvent, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=32)
    target = models.CharField(max_length=64, help_text="Which configured target of the channel.")
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    external_ref = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    tenancy_organization_field = "event__alert__organization"

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            # Invariant 2: the idempotency key of a delivery.
            models.UniqueConstraint(fields=["event", "channel", "target"], name="delivery_once_per_target"),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], name="delivery_due", condition=Q(state="pending")
            ),
            models.Index(fields=["account", "state"], name="delivery_account_state"),
        ]


class DeliveryAttempt(models.Model):
    """One try of a delivery: when, how long, and what came back."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    ok = models.BooleanField(default=False)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["started_at", "id"]


class PsaCompanyMapping(models.Model):
    """R13.3: the PSA company an organization's tickets go to (else the integration's default)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="psa_company_mapping")
    company = models.CharField(max_length=100, help_text="The company's id in the PSA.")
    # R19.2: the company's name as the PSA gave it when it was chosen or last checked, and
    # since when the PSA no longer has it (flagged on the organization and companies pages).
    company_name = models.CharField(max_length=200, blank=True)
    missing_since = models.DateTimeField(null=True, blank=True)

    tenancy_organization_field = "organization"


class PsaTicket(models.Model):
    """R19.1: what the last read-back learnt of an alert's ticket in the PSA. The ticket's id is
    the `external_ref` of the alert's sent "raised" delivery; this row keeps its state there."""

    class State(models.TextChoices):
        OPEN = "open"
        CLOSED = "closed", "closed in the PSA"
        DELETED = "deleted", "deleted in the PSA"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="psa_tickets")
    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="+")
    ticket = models.CharField(max_length=200, help_text="The ticket's id in the PSA.")
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN)
    status = models.CharField(max_length=100, blank=True, help_text="The ticket's status as the PSA names it.")
    closed_by = models.CharField(max_length=200, blank=True)
    changed_at = models.DateTimeField(null=True, blank=True, help_text="When a read-back saw it closed or deleted.")
    checked_at = models.DateTimeField()

    tenancy_organization_field = "alert__organization"

    class Meta:
        ordering = ["-checked_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["alert", "integration", "ticket"], name="psa_ticket_once"),
        ]


class PsaReadBack(models.Model):
    """R19.1: the read-back of one PSA integration: when it last ran, what went wrong, and how
    long the PSA asked us to wait (a 429's Retry-After) before calling it again."""

    integration = models.OneToOneField(Integration, on_delete=models.CASCADE, primary_key=True, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    ran_at = models.DateTimeField(null=True, blank=True)
    paused_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    companies_checked_at = models.DateTimeField(null=True, blank=True)

    tenancy_organization_field = None


class VsaEmailAction(models.Model):
    """R13.4: a user's VSA email action for one area; only its creator sees it."""

    class Area(models.TextChoices):
        BACKUPS = "backups", "Backups"
        REPLICATION_OFFSITE = "replication_offsite", "Replication Offsite"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    area = models.CharField(max_length=32, choices=Area.choices)
    recipients = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    tenancy_organization_field = None

    class Meta:
        ordering = ["area", "id"]
        indexes = [models.Index(fields=["account", "owner"], name="vsa_email_action_owner")]


class WebhookEndpoint(models.Model):
    """Issue 18: a URL that receives signed alert events through the outbox, like every channel.

    The secret signs each call (docs/webhooks.md); it is stored encrypted, like integration
    credentials, and shown in full only once, when it is made.
    """

    EVENTS = ("raised", "resolved", "dismissed")
    SEVERITIES = ("critical", "warning", "info")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100, validators=[refuse_control_characters])
    url = models.URLField(max_length=500)
    secret_store = EncryptedJSONField(default=dict, blank=True)
    events = models.JSONField(default=list, blank=True, help_text="Event types sent; empty sends all.")
    kinds = models.JSONField(default=list, blank=True, help_text="Alert kinds sent; empty sends all.")
    severities = models.JSONField(default=list, blank=True, help_text="Severities sent; empty sends all.")
    organizations = models.ManyToManyField(Organization, blank=True, related_name="+")
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    tenancy_organization_field = None

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    @property
    def secret(self) -> str:
        return (self.secret_store or {}).get("secret", "")

    @secret.setter
    def secret(self, value: str):
        self.secret_store = {"secret": value}
