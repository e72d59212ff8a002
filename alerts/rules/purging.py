"""Purging insights (R10): an appliance nearly full with nothing eligible for purging."""

from django.conf import settings
from django.db.models import F
from django.urls import reverse

from alerts.categories import KINDS
from alerts.conditions import Condition
from alerts.models import AlertSettings
from inventory.models import Appliance

FREE_PERCENT_BELOW = 5  # R10.1
RETURN_AFTER_DISMISSAL_HOURS = 24  # R10.3


def conditions(account, now, appliances=None):
    """`appliances` (ids): only those appliances (evaluation by due time); None: all."""
    if not AlertSettings.for_account(account).purging_alerts:  # R10.2
        return
    # R10.1, in integers so 5.0% exactly is not "below 5%": free * 100 < 5 * capacity.
    full = (
        Appliance.objects.filter(account=account, purge_eligible_backups=0, logical_capacity_bytes__gt=0)
        .alias(free_x100=F("logical_free_bytes") * 100, capacity_x5=F("logical_capacity_bytes") * FREE_PERCENT_BELOW)
        .filter(free_x100__lt=F("capacity_x5"))
        .select_related("organization")
    )
    if appliances is not None:
        full = full.filter(pk__in=appliances)
    for appliance in full:
        percent = 100.0 * appliance.logical_free_bytes / appliance.logical_capacity_bytes
        yield Condition(
            kind="purging",
            subject=f"appliance:{appliance.pk}",
            title=f"Appliance {appliance.name} has {percent:.1f}% free and no backups eligible for purging",
            organization_id=appliance.organization_id,
            appliance_id=appliance.pk,
            group_label=f"{appliance.organization.name} — {KINDS['purging']}",
            quiet_hours=RETURN_AFTER_DISMISSAL_HOURS,
            details={
                "appliance": appliance.name,
                "free_percent": round(percent, 2),
                "logical_free_bytes": appliance.logical_free_bytes,
                "logical_capacity_bytes": appliance.logical_capacity_bytes,
                "eligible_backups": appliance.purge_eligible_backups,
            },
            links={
                "organization": settings.PORTAL_URL + reverse("dashboard:alerts") + f"?organization={appliance.organization_id}",
                "appliance": settings.PORTAL_URL + reverse("inventory:appliance", args=[appliance.pk]),
            },
        )
