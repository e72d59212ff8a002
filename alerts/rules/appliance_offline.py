"""Appliance offline: no contact for 30 minutes (R2.3, category `appliance`)."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.urls import reverse

from alerts.categories import KINDS
from alerts.conditions import Condition
from alerts.models import AlertSettings
from inventory.models import Appliance
from inventory.versions import supports_category_toggles


def conditions(account, now, appliances=None):
    """`appliances` (ids): only those appliances (evaluation by due time); None: all."""
    cutoff = now - timedelta(minutes=settings.APPLIANCE_OFFLINE_MINUTES)
    category_on = AlertSettings.for_account(account).category_enabled("appliance")
    silent = Appliance.objects.filter(account=account).filter(
        Q(last_contact_at__lt=cutoff) | Q(last_contact_at__isnull=True)
    ).select_related("organization")
    if appliances is not None:
        silent = silent.filter(pk__in=appliances)
    for appliance in silent:
        # R2.1/R2.2: the toggle only silences appliances that support toggles.
        if not category_on and supports_category_toggles(appliance.version):
            continue
        yield Condition(
            kind="appliance_offline",
            category="appliance",
            subject=f"appliance:{appliance.pk}",
            title=f"Appliance {appliance.name} has not been in contact for {settings.APPLIANCE_OFFLINE_MINUTES} minutes",
            organization_id=appliance.organization_id,
            appliance_id=appliance.pk,
            group_label=f"{appliance.organization.name} — {KINDS['appliance_offline']}",
            details={
                "appliance": appliance.name,
                "version": appliance.version,
                "last_contact_at": appliance.last_contact_at.isoformat() if appliance.last_contact_at else None,
            },
            links={
                "organization": settings.PORTAL_URL + reverse("dashboard:alerts") + f"?organization={appliance.organization_id}",
                "appliance": settings.PORTAL_URL + reverse("inventory:appliance", args=[appliance.pk]),
            },
        )
