"""What the inventory room shows on the organization page, registered from
`InventoryConfig.ready()` so tenancy never imports inventory."""

from django.utils import timezone

from inventory import backup_grid
from inventory.models import Appliance, Asset, SaasSource
from tenancy.pages import Panel
from tenancy.serializers import OrganizationExtension, extend_organizations

GRID_ASSETS = 100  # the organization's backup grid shows this many assets


class OrganizationInventory(OrganizationExtension):
    """The organization's appliances, assets and SaaS sources."""

    name = "inventory"
    in_api = False

    def panel(self, member, organization):
        assets = (member.scope(Asset).filter(organization=organization).select_related("appliance")
                  .prefetch_related("backup_schedules").order_by("name"))
        return Panel("inventory/_organization_inventory.html", {
            "appliances": member.scope(Appliance).filter(organization=organization),
            "assets": assets,
            "grid_rows": backup_grid.rows(assets[:GRID_ASSETS], timezone.now()),
            "grid_states": backup_grid.STATES,
            "grid_more": max(len(assets) - GRID_ASSETS, 0),
            "saas_sources": member.scope(SaasSource).filter(organization=organization),
        }, order=10)


def register():
    extend_organizations(OrganizationInventory())
