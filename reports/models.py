"""Compliance history (R18.1) and what the digest and the monthly report need (R18.3).

Two tables hold the history, one row per day in the account's time zone:

- `SubjectDay`: one protected thing on one day — an asset (`asset` set) or a SaaS source
  (`saas_source` set) — with its `state`: good / warning / failed / missed / none (no
  schedule, or backups not checked by its threshold). It feeds the 30-day grid.
- `OrganizationDay`: one organization on one day: `protected` (subjects counted: every state
  but none), `compliant` (good or warning) and `ratio` = compliant / protected (None when
  nothing is protected). It feeds the trend chart, the digest and the monthly report.

Both are written only by `reports/compliance.py` (set-based upserts, idempotent), by beat after
midnight in the account's time zone, and by `manage.py backfill_compliance`.
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from inventory.models import Asset, SaasSource
from tenancy.models import Account, Organization
from tenancy.validation import refuse_control_characters


class DayState(models.TextChoices):
    GOOD = "good", "Good"  # last good backup within the threshold at the end of the day
    WARNING = "warning", "Warning"  # within the threshold, but the day's last try failed or warned (SaaS: partial)
    FAILED = "failed", "Failed"  # out of the threshold, and a try that day failed
    MISSED = "missed", "Missed"  # out of the threshold, and nothing tried that day
    NONE = "none", "None scheduled"  # not protected: no schedule, or backups unchecked by the threshold


COMPLIANT_STATES = (DayState.GOOD, DayState.WARNING)
COUNTED_STATES = (DayState.GOOD, DayState.WARNING, DayState.FAILED, DayState.MISSED)


class SubjectDay(models.Model):
    """One asset's or SaaS source's day (R18.1, R18.2's grid).

    Millions of rows are written by one statement from rows that exist (reports/compliance.py),
    so the database checks no foreign key per row (`db_constraint=False`, a trigger each) and keeps
    no index per foreign key; the ORM still deletes a removed account's, organization's, asset's or
    source's days with it. An asset's days are found by asset (the unique index); an
    organization's, through the assets its history holds (`OrganizationAsset`, `of_organization`):
    an index by organization over every asset-day would cost half of what writing a month of them
    costs. A SaaS source's days are few, and keep an index by organization."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False)
    asset = models.ForeignKey(
        Asset, on_delete=models.CASCADE, null=True, blank=True, related_name="+", db_constraint=False, db_index=False
    )
    saas_source = models.ForeignKey(
        SaasSource, on_delete=models.CASCADE, null=True, blank=True, related_name="+", db_constraint=False, db_index=False
    )
    day = models.DateField()
    state = models.CharField(max_length=8, choices=DayState.choices)

    tenancy_organization_field = "organization"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["asset", "day"], condition=Q(asset__isnull=False), name="subject_day_asset"),
            models.UniqueConstraint(
                fields=["saas_source", "day"], condition=Q(saas_source__isnull=False), name="subject_day_saas"
            ),
            models.CheckConstraint(
                condition=Q(asset__isnull=False, saas_source__isnull=True) | Q(asset__isnull=True, saas_source__isnull=False),
                name="subject_day_one_subject",
            ),
        ]
        # The SaaS rows of an organization's grid (its assets' rows: through OrganizationAsset).
        indexes = [models.Index(fields=["organization", "day"], name="subject_day_saas_by_org",
                                condition=Q(saas_source__isnull=False))]

    @classmethod
    def of_organization(cls, organization, first, last):
        """The organization's days `first`..`last`, its assets' and its SaaS sources', found along
        the asset index (the assets it holds, and those its history holds) and the SaaS one."""
        assets = list(Asset.objects.filter(organization=organization).values_list("pk", flat=True).union(
            OrganizationAsset.objects.filter(organization=organization).values_list("asset_id", flat=True)))
        return cls.objects.filter(Q(asset__in=assets) | Q(saas_source__isnull=False), organization=organization,
                                  day__gte=first, day__lte=last)


class OrganizationAsset(models.Model):
    """An asset that has days in an organization's history: written with them (one row per
    organization and asset, whatever the number of days), kept when the asset moves to another
    organization, since its earlier days stay the first one's."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=False)
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="+")

    tenancy_account_field = "organization__account"
    tenancy_organization_field = "organization"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "asset"], name="organization_asset_once")]


class OrganizationDay(models.Model):
    """One organization's compliance on one day (R18.1)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    protected = models.PositiveIntegerField(default=0)
    compliant = models.PositiveIntegerField(default=0)
    ratio = models.FloatField(null=True, blank=True, help_text="compliant / protected; empty when nothing is protected")

    tenancy_organization_field = "organization"

    class Meta:
        ordering = ["organization_id", "day"]
        constraints = [models.UniqueConstraint(fields=["organization", "day"], name="organization_day_once")]
        indexes = [models.Index(fields=["account", "day"], name="organization_day_by_account")]


def logo_types():
    return {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF"}


class ReportSettings(models.Model):
    """The account's report settings: its time zone, the digest, the monthly report, the branding."""

    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="report_settings")
    time_zone = models.CharField(max_length=64, default="UTC", help_text="Days and hours of reports are read here.")
    digest_enabled = models.BooleanField(default=False)
    digest_hour = models.PositiveSmallIntegerField(default=7, validators=[MinValueValidator(0), MaxValueValidator(23)])
    digest_recipients = models.JSONField(default=list, blank=True)
    monthly_enabled = models.BooleanField(default=False)
    monthly_recipients = models.JSONField(default=list, blank=True)
    msp_name = models.CharField(max_length=200, blank=True, validators=[refuse_control_characters])
    logo = models.BinaryField(null=True, blank=True, editable=False)
    logo_type = models.CharField(max_length=32, blank=True)
    compliance_through = models.DateField(null=True, blank=True, help_text="The last day computed by beat.")

    tenancy_organization_field = None

    @classmethod
    def for_account(cls, account):
        row, _ = cls.objects.get_or_create(account=account)
        return row

    @property
    def brand(self) -> str:
        return self.msp_name or self.account.name


class ReportDelivery(models.Model):
    """A report email in the outbox: rendered once, sent at least once and never twice.

    `key` is the idempotency key (`digest:2026-11-30`, `monthly:<organization>:2026-11`): beat
    writes the row with `ON CONFLICT DO NOTHING`, and a worker sends it under a lease, like
    every delivery (docs/architecture.md, invariant 3)."""

    class State(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    key = models.CharField(max_length=100)
    subject = models.CharField(max_length=250)
    text = models.TextField()
    html = models.TextField(blank=True)
    recipients = models.JSONField(default=list)
    attachment = models.BinaryField(null=True, blank=True)
    attachment_name = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    tenancy_organization_field = "organization"

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "report deliveries"
        constraints = [models.UniqueConstraint(fields=["account", "key"], name="report_delivery_once")]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="report_delivery_due", condition=Q(state="pending")),
        ]
