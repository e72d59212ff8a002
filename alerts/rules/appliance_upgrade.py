"""The single "upgrade these appliances" alert (R2.2).

Appliances older than 10.6.1 cannot honour category toggles, so every category
stays on for them and the account is asked, once, to upgrade them. The alert
lists them and resolves when none is left.
"""

from alerts.categories import KINDS
from alerts.conditions import Condition
from inventory.models import Appliance
from inventory.versions import parse_version, supports_category_toggles


def conditions(account, now):
    appliances = (
        Appliance.objects.filter(account=account, retired_at__isnull=True)  # R15.2: retired ones need nothing
        .exclude(version="").select_related("organization")
    )
    older = [a for a in appliances if not supports_category_toggles(a.version)]
    if not older:
        return
    listed = [
        {
            "id": a.pk,  # the alert's page links each one to its appliance page
            "appliance": a.name,
            "organization": a.organization.name,
            "version": a.version if parse_version(a.version) else f"{a.version} (unreadable)",
        }
        for a in sorted(older, key=lambda a: (a.organization.name, a.name))
    ]
    count = len(listed)
    yield Condition(
        kind="appliance_upgrade",
        subject="account",
        title=f"Upgrade {count} appliance{'s' if count != 1 else ''} older than 10.6.1 to use alert category settings",
        organization_id=None,
        group_label=KINDS["appliance_upgrade"],
        details={"appliances": listed, "minimum_version": "10.6.1"},
    )
