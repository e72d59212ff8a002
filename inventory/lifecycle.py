"""Inventory that moves or leaves (R15).

R15.1: an asset's organization is its appliance's. Saving an appliance in
another organization moves its assets in one statement, in the same
transaction; an appliance sync repairs any asset that missed a move (one
created from an appliance read before the move). The alerts follow at the
next evaluation.

R15.2: removing a subject goes through `tenancy.removal`, so its open alerts
are resolved (and fanned out) before the rows go. A retired appliance stays for
history and raises nothing more.
"""

from django.db import transaction

from inventory import due
from inventory.models import Appliance, Asset, SaasSource
from tenancy import removal


def follow_appliance(appliance: Appliance) -> int:
    """Put every asset of the appliance in the appliance's organization as stored now."""
    organization_id = Appliance.objects.filter(pk=appliance.pk).values_list("organization_id", flat=True).first()
    if organization_id is None:
        return 0
    moving = Asset.objects.filter(appliance_id=appliance.pk).exclude(organization_id=organization_id)
    moved = list(moving.values_list("pk", flat=True))
    if moved:
        Asset.objects.filter(pk__in=moved).update(organization_id=organization_id)
        due.assets_changed(moved)
    return len(moved)


def remove_appliance(appliance: Appliance, now=None) -> int:
    return removal.remove(Appliance.objects.filter(pk=appliance.pk), now)


def remove_asset(asset: Asset, now=None) -> int:
    return removal.remove(Asset.objects.filter(pk=asset.pk), now)


def remove_saas_source(source: SaasSource, now=None) -> int:
    return removal.remove(SaasSource.objects.filter(pk=source.pk), now)


def remove_azure_assets(queryset, now=None) -> int:
    """Azure assets the Datto Portal no longer lists, or of a Datto integration removed."""
    return removal.remove(queryset, now)


def retire_appliances(queryset, now) -> int:
    """R15.2: their alerts resolve; they stay for history, shown as retired, and raise nothing more."""
    with transaction.atomic():
        removal.leaving(queryset, now)
        retiring = list(queryset.filter(retired_at__isnull=True).values_list("pk", flat=True))
        Appliance.objects.filter(pk__in=retiring).update(retired_at=now)
        due.appliance_facts_changed(retiring)
        return len(retiring)
