"""Compliance history (R18.1) and what the digest and the monthly report need (R18.3).

Two tables hold the history, in days of the account's time zone:

- `SubjectMonth`: one protected thing's month in one organization — an asset (`asset` set) or a
  SaaS source (`saas_source` set) — with each day's state, one letter a day: good / warning /
  failed / missed / none (no schedule, or backups not checked by its threshold). It feeds the
  30-day grid (`subject_days`).
- `OrganizationDay`: one organization on one day: `protected` (subjects counted: every state
  but none), `compliant` (good or warning) and `ratio` = compliant / protected (None when
  nothing is protected). It feeds the trend chart, the digest and the monthly report.

Both are written only by `reports/compliance.py` (set-based upserts, idempotent), by beat after
midnight in the account's time zone, and by `manage.py backfill_compliance`.
"""

from dataclasses import dataclass
from datetime import date, timedelta

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


# One letter a day in SubjectMonth.states; UNKNOWN: not computed, or before the subject was known.
LETTERS = {DayState.GOOD: "g", DayState.WARNING: "w", DayState.FAILED: "f", DayState.MISSED: "m", DayState.NONE: "n"}
UNKNOWN = "-"
STATE_OF_LETTER = {letter: state for state, letter in LETTERS.items()}


class SubjectMonth(models.Model):
    """One asset's or SaaS source's days of one month in one organization (R18.1, R18.2's grid).

    `states` holds one letter a day from the month's first (`LETTERS`; `-` for a day not known),
    so that a month of 100,000 assets is 100,000 rows, not 3 million. An asset that moves keeps
    the days computed before in a row of its first organization; the days after are in a row of
    the new one (a day is in one row at most: computing it again moves it to the asset's
    organization of now). Written only by `reports/compliance.py`, which checks no foreign key
    per row (`db_constraint=False`); the ORM still deletes a removed account's, organization's,
    asset's or source's months with it."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False)
    asset = models.ForeignKey(
        Asset, on_delete=models.CASCADE, null=True, blank=True, related_name="+", db_constraint=False, db_index=False
    )
    saas_source = models.ForeignKey(
        SaasSource, on_delete=models.CASCADE, null=True, blank=True, related_name="+", db_constraint=False, db_index=False
    )
    month = models.DateField(help_text="The month's first day.")
    states = models.CharField(max_length=31, help_text="One letter a day from the 1st: g, w, f, m, n (none) or - (not known).")

    tenancy_organization_field = "organization"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["asset", "month", "organization"], condition=Q(asset__isnull=False),
                                    name="subject_month_asset"),
            models.UniqueConstraint(fields=["saas_source", "month", "organization"], condition=Q(saas_source__isnull=False),
                                    name="subject_month_saas"),
            models.CheckConstraint(
                condition=Q(asset__isnull=False, saas_source__isnull=True) | Q(asset__isnull=True, saas_source__isnull=False),
                name="subject_month_one_subject",
            ),
        ]
        indexes = [models.Index(fields=["organization", "month"], name="subject_month_by_org")]

    def days(self, first: date, last: date):
        """(day, DayState) of each known day of this month within first..last."""
        for offset, letter in enumerate(self.states):
            day = self.month + timedelta(days=offset)
            if first <= day <= last and letter != UNKNOWN:
                yield day, STATE_OF_LETTER[letter]


@dataclass(frozen=True)
class SubjectDay:
    """One asset's or SaaS source's state on one day, read from its SubjectMonth."""

    kind: str  # "asset" or "saas_source"
    id: int
    name: str
    day: date
    state: str


def subject_days(organization, first: date, last: date) -> list[SubjectDay]:
    """The organization's subjects' known days first..last, by kind (assets first), name and day."""
    months = (SubjectMonth.objects.filter(organization=organization, month__gte=first.replace(day=1), month__lte=last)
              .select_related("asset", "saas_source").only("month", "states", "asset__name", "saas_source__name"))
    found = [SubjectDay("asset" if row.asset_id else "saas_source", row.asset_id or row.saas_source_id,
                        row.asset.name if row.asset_id else row.saas_source.name, day, state)
             for row in months for day, state in row.days(first, last)]
    return sorted(found, key=lambda d: (d.kind != "asset", d.name, d.id, d.day))


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
