"""What the reports room shows on the organization page, registered from `ReportsConfig.ready()`:
the last 30 days' compliance and the way to its monthly report."""

from datetime import timedelta

from django.utils import timezone

from reports.compliance import local_today
from reports.figures import ratio_of
from reports.models import OrganizationDay
from reports.text import percent
from tenancy.pages import Panel
from tenancy.serializers import OrganizationExtension, extend_organizations


class Compliance(OrganizationExtension):
    name = "compliance"
    in_api = False

    def panel(self, member, organization):
        yesterday = local_today(member.account, timezone.now()) - timedelta(days=1)
        days = member.scope(OrganizationDay).filter(
            organization=organization, day__gt=yesterday - timedelta(days=30), day__lte=yesterday)
        return Panel("reports/_organization_compliance.html", {
            "organization": organization, "average": percent(ratio_of(days)),
            "contact": organization.report_contact,
        }, order=80)


def register():
    extend_organizations(Compliance())
