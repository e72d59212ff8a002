"""How long an asset may go without a good backup or hot copy before it alarms (R4)."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from tenancy.models import Account, Organization
from tenancy.validation import refuse_control_characters

HOURS = [MinValueValidator(1), MaxValueValidator(8760)]  # R4.5


class ThresholdFields(models.Model):
    backups_enabled = models.BooleanField(default=True)
    backups_hours = models.PositiveIntegerField(default=24, validators=HOURS)
    hot_copy_enabled = models.BooleanField(default=True)
    hot_copy_hours = models.PositiveIntegerField(default=48, validators=HOURS)
    azure_hours = models.PositiveIntegerField(default=24, validators=HOURS)

    class Meta:
        abstract = True


class GlobalThreshold(ThresholdFields):
    """The account's one global threshold; conditional alarms need it (R4.1)."""

    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="global_threshold")

    def __str__(self):
        return "global"


class CustomThreshold(ThresholdFields):
    """A named threshold assigned to organizations; it takes precedence over the global one (R4.2)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="custom_thresholds")
    name = models.CharField(max_length=100, validators=[refuse_control_characters])
    organizations = models.ManyToManyField(
        Organization, blank=True, through="ThresholdAssignment", related_name="+"
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="custom_threshold_name_unique"),
        ]

    def __str__(self):
        return self.name


class ThresholdAssignment(models.Model):
    """An organization's custom threshold; at most one per organization (R4.2)."""

    threshold = models.ForeignKey(CustomThreshold, on_delete=models.CASCADE)
    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="threshold_assignment"
    )
