"""When each subject's alerts can next change (issue 17): one narrow row per asset, appliance,
SaaS source and Azure asset (inventory/due.py)."""

from django.db import models

from inventory.due import changed_moment
from tenancy.models import Account


class NextCheck(models.Model):
    """The next moment a subject's alerts can change; a moment a century back means "changed,
    evaluate at the next cycle". Kept apart from the subjects' wide tables: a full evaluation
    writes a million of them, and a row here has two small indexes to update where an asset
    has seven. The database adds a subject's row when the subject is inserted (due at once)
    and drops it when the subject is deleted (triggers of migration 0010), so no writer,
    not even COPY, can leave a subject out of evaluation by due time."""

    class Kind(models.TextChoices):
        ASSET = "asset", "Asset"
        APPLIANCE = "appliance", "Appliance"
        SAAS = "saas", "SaaS source"
        AZURE = "azure", "Azure asset"

    pk = models.CompositePrimaryKey("kind", "subject_id")
    kind = models.CharField(max_length=9, choices=Kind.choices)
    subject_id = models.BigIntegerField()
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+", db_index=False)
    next_check_at = models.DateTimeField(default=changed_moment)

    class Meta:
        indexes = [models.Index(fields=["account", "kind", "next_check_at"], name="next_check_due_by_account")]

    def __str__(self):
        return f"{self.kind} {self.subject_id}: {self.next_check_at}"
