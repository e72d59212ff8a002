"""Writing thresholds (R4): the one place the API, the dashboard and the organization
field all go through, so each rule on assignments holds the same way everywhere."""

from django.db import transaction

from thresholds.models import CustomThreshold, GlobalThreshold, ThresholdAssignment

FIELDS = ("backups_enabled", "backups_hours", "hot_copy_enabled", "hot_copy_hours", "azure_hours")


@transaction.atomic
def save_global(account, values: dict) -> GlobalThreshold:
    """R4.1: one per account; created on first save. Takes effect at the next evaluation (R4.6)."""
    threshold, _ = GlobalThreshold.objects.update_or_create(
        account=account, defaults={f: values[f] for f in FIELDS if f in values}
    )
    return threshold


@transaction.atomic
def save_custom(account, values: dict, organizations=None, threshold=None) -> CustomThreshold:
    """Create or change a custom threshold; `organizations` (when given) become exactly its
    assignments. An organization taken from another custom threshold moves here (R4.2: one each)."""
    if threshold is None:
        threshold = CustomThreshold(account=account)
    for field in ("name",) + FIELDS:
        if field in values:
            setattr(threshold, field, values[field])
    threshold.save()
    if organizations is not None:
        assign(threshold, organizations)
    return threshold


def assign(threshold: CustomThreshold, organizations) -> None:
    wanted = {org.pk for org in organizations}
    ThresholdAssignment.objects.filter(threshold=threshold).exclude(organization_id__in=wanted).delete()
    for organization_id in wanted:
        ThresholdAssignment.objects.update_or_create(
            organization_id=organization_id, defaults={"threshold": threshold}
        )


@transaction.atomic
def delete_custom(threshold: CustomThreshold) -> None:
    """R4.3: its organizations return to the global threshold (their assignments go with it)."""
    threshold.delete()


@transaction.atomic
def set_custom_threshold(organization, threshold: CustomThreshold | None) -> None:
    """The organization's `custom_threshold` field: assign, move, or return to global (None)."""
    if threshold is None:
        ThresholdAssignment.objects.filter(organization=organization).delete()
    else:
        ThresholdAssignment.objects.update_or_create(organization=organization, defaults={"threshold": threshold})
