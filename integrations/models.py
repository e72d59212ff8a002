"""External systems an account connects: appliances, SaaS backup vendors, PSAs, the VSA."""

from django.db import models
from django.utils.dateparse import parse_datetime

from integrations import kinds
from integrations.crypto import EncryptedJSONField, mask
from tenancy.models import Account
from tenancy.validation import refuse_control_characters


class Integration(models.Model):
    """One configured connection; credentials are encrypted at rest and shown masked."""

    # The kinds and their labels come from the table of kinds (integrations/kinds.py).
    Kind = models.TextChoices("Kind", [(value.upper(), (value, label)) for value, label in kinds.CHOICES])

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="integrations")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    name = models.CharField(max_length=200, validators=[refuse_control_characters])
    base_url = models.URLField(blank=True)
    credentials = EncryptedJSONField(default=dict, blank=True)
    options = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    last_sync_at = models.DateTimeField(null=True, blank=True)
    last_sync_ok = models.BooleanField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # R15.3: what a poll answered empty where it had data, kept until a poll at least an hour
    # later agrees: {scope: {"since": ISO time, "detail": sentence}}.
    suspicious_polls = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "name"]
        indexes = [models.Index(fields=["account", "kind"], name="integration_account_kind")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.name}"

    def suspicions(self) -> list[dict]:
        """R15.3: the empty answers held back, each with `since` (a time) and `detail` (a sentence)."""
        return [
            {"detail": held.get("detail", ""), "since": parse_datetime(held.get("since") or "")}
            for _, held in sorted((self.suspicious_polls or {}).items())
        ]

    def masked_credentials(self) -> dict:
        return {key: mask(value) for key, value in (self.credentials or {}).items()}
