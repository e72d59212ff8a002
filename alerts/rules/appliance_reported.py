"""The appliance's own alerts, in the R2.3 categories (kind `appliance_alert`).

A category switched off raises nothing new for appliances at 10.6.1 or later
(R2.1, R2.2); older appliances keep every category on. Open alerts of a
switched-off category clear here and the reconciler records them as withdrawn
(`category_disabled`).
"""

from django.conf import settings
from django.urls import reverse

from alerts.categories import CATEGORIES, KINDS
from alerts.conditions import Condition
from alerts.models import AlertSettings
from inventory.models import ApplianceAlert
from inventory.versions import supports_category_toggles


def category_of(vendor_category: str) -> str:
    """The vendor's category name in ours; anything unknown is an appliance fault (R2.3)."""
    name = (vendor_category or "").strip().lower().replace(" ", "_").replace("-", "_")
    return name if name in CATEGORIES else "appliance"


def conditions(account, now, appliances=None):
    """`appliances` (ids): only those appliances' alerts (evaluation by due time); None: all."""
    toggles = AlertSettings.for_account(account)
    active = (
        ApplianceAlert.objects.filter(account=account, active=True)
        .select_related("appliance__organization")
        .order_by("appliance_id", "external_id")
    )
    if appliances is not None:
        active = active.filter(appliance_id__in=appliances)
    for record in active:
        appliance = record.appliance
        category = category_of(record.category)
        if not toggles.category_enabled(category) and supports_category_toggles(appliance.version):
            continue
        yield Condition(
            kind="appliance_alert",
            category=category,
            subject=f"appliance:{appliance.pk}:alert:{record.external_id}",
            title=f"{appliance.name}: {record.message}"[:300],
            organization_id=appliance.organization_id,
            appliance_id=appliance.pk,
            group_key=f"{appliance.organization_id}:appliance_alert:{category}",
            group_label=f"{appliance.organization.name} — {KINDS['appliance_alert']} ({category.replace('_', ' ')})",
            details={
                "appliance": appliance.name,
                "category": category,
                "severity": record.severity,
                "message": record.message,
                "reported_at": record.reported_at.isoformat() if record.reported_at else None,
            },
            links={
                "organization": settings.PORTAL_URL + reverse("dashboard:alerts") + f"?organization={appliance.organization_id}",
                "appliance": settings.PORTAL_URL + reverse("inventory:appliance", args=[appliance.pk]),
            },
        )
