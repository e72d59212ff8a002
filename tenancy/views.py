"""The organizations list and each organization's page (issue 8, R1.4).

The page shows what the rooms above tenancy know of an organization (its inventory, its
threshold, its PSA company, its recent alerts) without importing them: each room adds its
facts and sections through the organization extensions (`tenancy/serializers.py`), the
same hook that adds its fields to the API.
"""

from collections import defaultdict

from django.contrib import messages
from django.shortcuts import redirect, render

from tenancy import organizations, removal
from tenancy.models import Organization
from tenancy.pages import MANAGE, in_order, member_page
from tenancy.serializers import ORGANIZATION_EXTENSIONS, OrganizationSerializer

SHOWN = 500
REFUSAL = "Only a superuser may change organizations."


def _save(request, account, instance=None):
    """Create or rename through the API's serializer, so both refuse the same names."""
    serializer = OrganizationSerializer(
        instance, data={"name": request.POST.get("name", "")}, partial=instance is not None,
        context={"account": account, "request": request},
    )
    if serializer.is_valid():
        return serializer.save(**({} if instance else {"account": account})), None
    return None, serializer.errors.get("name", ["Not valid."])[0]


@member_page(write=MANAGE, refusal=REFUSAL)
def organization_list(request, member):
    """Organizations with open alerts per kind (R1.4: only what the user sees) and a search."""
    error = None
    if request.method == "POST":
        organization, error = _save(request, member.account)
        if organization:
            messages.success(request, f"Organization {organization.name} created.")
            return redirect("tenancy:organization", organization.pk)
    search = request.GET.get("q", "").strip()
    visible = member.scope(Organization)
    if search:
        visible = visible.filter(name__icontains=search)
    rows = list(visible[:SHOWN])
    counts = defaultdict(dict, organizations.open_alert_counts(org.pk for org in rows))
    kinds = sorted({kind for by_kind in counts.values() for kind in by_kind})
    table = [
        {"org": org, "total": sum(counts[org.pk].values()), "cells": [counts[org.pk].get(k, 0) for k in kinds]}
        for org in rows
    ]
    return render(request, "tenancy/organizations.html", {
        "table": table, "kinds": [(k, organizations.alert_kind_label(k)) for k in kinds], "search": search,
        "total": sum(row["total"] for row in table), "truncated": len(rows) == SHOWN,
        "can_manage": member.can(MANAGE), "error": error,
        "name": request.POST.get("name", ""),
    })


@member_page
def organization_page(request, member, pk):
    """Its facts (threshold, PSA company …) and the sections other rooms add (inventory, recent alerts)."""
    organization = member.get(Organization, pk=pk)
    by_kind = organizations.open_alert_counts([organization.pk]).get(organization.pk, {})
    return render(request, "tenancy/organization.html", {
        "organization": organization,
        "open_count": sum(by_kind.values()),
        "facts": in_order(e.fact(member, organization) for e in ORGANIZATION_EXTENSIONS),
        "panels": in_order(e.panel(member, organization) for e in ORGANIZATION_EXTENSIONS),
        "can_manage": member.can(MANAGE),
    })


@member_page(methods=["POST"], require=MANAGE, refusal=REFUSAL)
def organization_rename(request, member, pk):
    organization = member.get(Organization, pk=pk)
    renamed, error = _save(request, member.account, organization)
    if renamed:
        messages.success(request, f"Renamed to {renamed.name}.")
    else:
        messages.error(request, f"Not renamed: {error}")
    return redirect("tenancy:organization", pk)


@member_page(require=MANAGE, refusal=REFUSAL)
def organization_delete(request, member, pk):
    """GET asks for confirmation and says what goes with it; POST deletes."""
    organization = member.get(Organization, pk=pk)
    figures = organizations.contents(organization)
    if request.method == "POST":
        name = organization.name
        removal.remove_organization(organization)  # R15.2: its alerts resolve first, history stays
        messages.success(request, f"Organization {name} deleted.")
        return redirect("tenancy:organizations")
    return render(request, "tenancy/organization_delete.html", {
        "organization": organization, "figures": figures,
        "consequences": organizations.describe_contents(figures),
        "has_inventory": organizations.needs_confirmation(figures),
    })
