"""R16.3 on other rooms' pages, registered from `MaintenanceConfig.ready()`: the organization,
appliance and asset pages say when a window covers them now or within 24 hours."""

from maintenance.words import notes
from tenancy.pages import Panel
from tenancy.serializers import OrganizationExtension, extend_organizations

TEMPLATE = "_maintenance_note.html"


def _panel(texts):
    return Panel(TEMPLATE, {"maintenance_notes": texts}, order=5) if texts else None


class MaintenanceNote(OrganizationExtension):
    name = "maintenance_note"
    in_api = False

    def panel(self, member, organization):
        return _panel(notes(member.account, organization_id=organization.pk))


def appliance_note(member, appliance):
    return _panel(notes(member.account, organization_id=appliance.organization_id, appliance_id=appliance.pk))


def asset_note(member, asset):
    return _panel(notes(member.account, organization_id=asset.organization_id, appliance_id=asset.appliance_id,
                        asset_id=asset.pk))


def register():
    from inventory.appliance_views import APPLIANCE_PANELS
    from inventory.views import ASSET_PANELS

    extend_organizations(MaintenanceNote())
    APPLIANCE_PANELS.add("maintenance_note", appliance_note)
    ASSET_PANELS.add("maintenance_note", asset_note)
