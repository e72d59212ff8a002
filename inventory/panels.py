"""What the inventory room shows on the organization page, registered from
`InventoryConfig.ready()` so tenancy never imports inventory."""

from inventory.models import Appliance, Asset, SaasSource
from tenancy.pages import Panel
from tenancy.serializers import OrganizationExtension, extend_organizations


class OrganizationInventory(OrganizationExtension):
    """The organization's appliances, assets and SaaS sources."""

    name = "inventory"
    in_api = False

    def panel(self, member, organization):
        return Panel("inventory/_organization_inventory.html", {
            "appliances": member.scope(Appliance).filter(organization=organization),
            "assets": member.scope(Asset).filter(organization=organization).select_related("appliance"),
            "saas_sources": member.scope(SaasSource).filter(organization=organization),
        }, order=10)


def register():
    extend_organizations(OrganizationInventory())
