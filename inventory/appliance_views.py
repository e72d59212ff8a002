"""The appliance page in the dashboard: where every "appliance" link of an alert leads.

Scoped like every page: another account's appliance, or one outside the user's
organizations, is 404 (R1.1). Rooms above inventory add their sections (the appliance's
open alerts) through `APPLIANCE_PANELS` from their `ready()`: this page never imports them.
"""

from datetime import timedelta

from django.conf import settings
from django.shortcuts import render
from django.utils import timezone

from inventory.appliance_facts import storage_chart, with_last_backup
from inventory.models import Appliance
from inventory.versions import CATEGORY_TOGGLES_SINCE, parse_version, supports_category_toggles
from tenancy.pages import Panels, member_page

MINIMUM_VERSION = ".".join(str(part) for part in CATEGORY_TOGGLES_SINCE)
APPLIANCE_PANELS = Panels()  # contribute(member, appliance) -> Panel, shown after the appliance's facts


@member_page
def appliance_page(request, member, pk):
    appliance = member.get(member.scope(Appliance).select_related("organization"), pk=pk)
    # The same test as the offline alert (R2.3), so the page and the alert never disagree.
    cutoff = timezone.now() - timedelta(minutes=settings.APPLIANCE_OFFLINE_MINUTES)
    # R15.2: a retired appliance is kept for history and raises nothing, so it is not "offline".
    silent = not appliance.retired_at and (appliance.last_contact_at is None or appliance.last_contact_at < cutoff)
    used = max(appliance.logical_capacity_bytes - appliance.logical_free_bytes, 0)
    return render(request, "inventory/appliance.html", {
        "appliance": appliance,
        # R2.2: older appliances keep every category on until upgraded.
        "needs_upgrade": bool(appliance.version) and not supports_category_toggles(appliance.version),
        "version_unreadable": bool(appliance.version) and parse_version(appliance.version) is None,
        "minimum_version": MINIMUM_VERSION,
        "offline": not appliance.retired_at and (silent or appliance.status == Appliance.Status.OFFLINE),
        "silent": silent,
        "offline_minutes": settings.APPLIANCE_OFFLINE_MINUTES,
        "used_bytes": used,
        "used_percent": round(100 * used / appliance.logical_capacity_bytes) if appliance.logical_capacity_bytes else None,
        "assets": with_last_backup(member.scope(appliance.assets.all()).order_by("name")),
        "storage_chart": storage_chart(appliance, timezone.now()),
        "panels": APPLIANCE_PANELS(member, appliance),
    })

