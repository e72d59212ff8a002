from django.conf import settings
from django.db import models
from django.utils import timezone

from tenancy.models import Account


class AuditEntry(models.Model):
    """Who changed what in an account: thresholds, settings, integrations, mappings, dismissals.

    Append-only. `actor_label` keeps the person's address after the user is
    deleted; `changes` holds `{field: [before, after]}` and never a credential.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=300, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=128, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["account", "-id"], name="audit_account_recent"),
            models.Index(fields=["account", "action", "-id"], name="audit_account_action"),
            models.Index(fields=["account", "actor", "-id"], name="audit_account_actor"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label or 'system'} {self.action} {self.target_label}"
