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


EDITED = {"name": "Name", "report_contact": "Monthly report contact"}  # the edit form's fields, by label


def _save(request, account, instance=None):
    """Create or edit through the API's serializer, so both refuse the same names and contacts.
    Answers the organization saved, or None and the first error of each field refused; a field the
    form did not send is left as it is."""
    data = {name: request.POST[name] for name in EDITED if name in request.POST}
    if instance is None:
        data.setdefault("name", "")  # a new organization needs one: the serializer names it missing
    serializer = OrganizationSerializer(
        instance, data=data, partial=instance is not None, context={"account": account, "request": request},
    )
    if serializer.is_valid():
        return serializer.save(**({} if instance else {"account": account})), {}
    return None, {name: str(errors[0]) for name, errors in serializer.errors.items()}


@member_page(write=MANAGE, refusal=REFUSAL)
def organization_list(request, member):
    """Organizations with open alerts per kind (R1.4: only what the user sees) and a search."""
    error = None
    if request.method == "POST":
        organization, errors = _save(request, member.account)
        error = errors.get("name") or next(iter(errors.values()), None)
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


def _page(request, member, organization, edit=None, status=200):
    """The organization page; `edit` is the edit form sent back with its errors (none: the stored values)."""
    by_kind = organizations.open_alert_counts([organization.pk]).get(organization.pk, {})
    edit = edit or {
        "values": {"name": organization.name, "report_contact": organization.report_contact}, "errors": {}}
    return render(request, "tenancy/organization.html", {
        "organization": organization,
        "open_count": sum(by_kind.values()),
        "facts": in_order(e.fact(member, organization) for e in ORGANIZATION_EXTENSIONS),
        "panels": in_order(e.panel(member, organization) for e in ORGANIZATION_EXTENSIONS),
        "can_manage": member.can(MANAGE),
        "edit": edit,
    }, status=status)


@member_page
def organization_page(request, member, pk):
    """Its facts (threshold, PSA company …) and the sections other rooms add (inventory, recent alerts)."""
    return _page(request, member, member.get(Organization, pk=pk))


@member_page(methods=["POST"], require=MANAGE, refusal=REFUSAL)
def organization_edit(request, member, pk):
    """Its name and its monthly report's customer contact (R18.3). A refused value comes back as the
    form's error on that field, and nothing is saved."""
    organization = member.get(Organization, pk=pk)
    old_name = organization.name
    saved, errors = _save(request, member.account, organization)
    if saved:
        messages.success(request, f"Renamed to {saved.name}." if saved.name != old_name else f"{saved.name} saved.")
        return redirect("tenancy:organization", pk)
    organization.refresh_from_db()
    values = {name: request.POST.get(name, getattr(organization, name)) for name in EDITED}
    return _page(request, member, organization, {"values": values, "errors": errors}, status=400)


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
