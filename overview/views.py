"""The landing page: what matters most across the account, at a glance (issue 14 item 1)."""

from django.shortcuts import render
from django.utils import timezone

from overview import figures
from tenancy.models import Organization
from tenancy.pages import MANAGE, member_page


@member_page
def overview(request, member):
    now = timezone.now()
    today = timezone.localdate(now)
    organizations = list(member.scope(Organization).order_by("name"))
    return render(request, "overview/overview.html", {
        "severities": figures.by_severity(member),
        "ranking": figures.compliance_ranking(member, organizations, today),
        "worst_assets": figures.worst_assets(member, today),
        "last_day": figures.last_day(member, now),
        "failing": figures.failing_integrations(member),
        "can_manage_integrations": member.can(MANAGE),
    })
