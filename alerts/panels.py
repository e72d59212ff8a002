"""What the alerts room shows on other rooms' pages, registered from `AlertsConfig.ready()` so
those pages never import alerts: an organization's recent alerts, an appliance's open alerts."""

from alerts.dismiss import open_alerts_for
from alerts.models import Alert
from tenancy.pages import Panel
from tenancy.serializers import OrganizationExtension, extend_organizations

RECENT_ALERTS = 20


class RecentAlerts(OrganizationExtension):
    """The organization page's latest alerts, whatever their state."""

    name = "recent_alerts"
    in_api = False

    def panel(self, member, organization):
        alerts = member.scope(Alert).filter(organization=organization)[:RECENT_ALERTS]
        return Panel("alerts/_organization_alerts.html", {"alerts": alerts}, order=90)


def appliance_alerts(member, appliance) -> Panel:
    """The appliance page's open alerts, newest first."""
    alerts = open_alerts_for(member.user).filter(appliance=appliance).order_by("-raised_at")
    return Panel("alerts/_appliance_alerts.html", {"alerts": alerts})


def register():
    from inventory.appliance_views import APPLIANCE_PANELS

    extend_organizations(RecentAlerts())
    APPLIANCE_PANELS.add("open_alerts", appliance_alerts)
