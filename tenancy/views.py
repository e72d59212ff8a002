"""The organizations list and each organization's page (issue 8, R1.4).

These pages compose rooms above tenancy (inventory, thresholds, alerts): their
models are imported inside the view functions, never at module level, so the
arrows of ARCHITECTURE.md still point one way for everything else in tenancy.
Every queryset goes through `scoping.scope`.
"""

from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from tenancy import organizations, removal, scoping
from tenancy.models import Organization
from tenancy.serializers import ORGANIZATION_EXTENSIONS, OrganizationSerializer

RECENT_ALERTS = 20
SHOWN = 500
# The threshold section already shows these extensions' facts, with their origin.
SHOWN_ELSEWHERE = {"custom_threshold", "threshold"}


def _superuser(request):
    account = scoping.member_account(request.user)
    if not scoping.can(request.user, scoping.MANAGE):
        raise PermissionDenied("Only a superuser may change organizations.")
    return account


def _save(request, account, instance=None):
    """Create or rename through the API's serializer, so both refuse the same names."""
    serializer = OrganizationSerializer(
        instance, data={"name": request.POST.get("name", "")}, partial=instance is not None,
        context={"account": account, "request": request},
    )
    if serializer.is_valid():
        return serializer.save(**({} if instance else {"account": account})), None
    return None, serializer.errors.get("name", ["Not valid."])[0]


@login_required
def organization_list(request):
    """Organizations with open alerts per kind (R1.4: only what the user sees) and a search."""
    from alerts.categories import KINDS  # the page composes rooms

    account = scoping.member_account(request.user)
    error = None
    if request.method == "POST":
        _superuser(request)
        organization, error = _save(request, account)
        if organization:
            messages.success(request, f"Organization {organization.name} created.")
            return redirect("tenancy:organization", organization.pk)
    search = request.GET.get("q", "").strip()
    visible = scoping.scope(request.user, Organization.objects.all())  # scoped
    if search:
        visible = visible.filter(name__icontains=search)  # scoped
    rows = list(visible[:SHOWN])
    counts = defaultdict(dict, organizations.open_alert_counts(org.pk for org in rows))
    kinds = sorted({kind for by_kind in counts.values() for kind in by_kind})
    table = [
        {"org": org, "total": sum(counts[org.pk].values()), "cells": [counts[org.pk].get(k, 0) for k in kinds]}
        for org in rows
    ]
    return render(request, "tenancy/organizations.html", {
        "table": table, "kinds": [(k, KINDS.get(k, k)) for k in kinds], "search": search,
        "total": sum(row["total"] for row in table), "truncated": len(rows) == SHOWN,
        "can_manage": scoping.can(request.user, scoping.MANAGE), "error": error,
        "name": request.POST.get("name", ""),
    })


def _label(name: str) -> str:
    """"psa_company" → "PSA company": short words read as acronyms."""
    words = [w.upper() if len(w) <= 3 else w for w in name.split("_")]
    return " ".join(words)[:1].upper() + " ".join(words)[1:]


def _threshold(organization):
    """The threshold in effect and where it comes from, when the thresholds room provides it."""
    try:
        from thresholds.effective import effective_threshold  # the page composes rooms
    except ImportError:
        return None
    return effective_threshold(organization)


@login_required
def organization_page(request, pk):
    """Appliances, assets, SaaS sources, threshold, extensions (PSA company …) and recent alerts."""
    from alerts.models import Alert  # the page composes rooms
    from inventory.models import Appliance, Asset, SaasSource

    scoping.member_account(request.user)
    organization = get_object_or_404(scoping.scope(request.user, Organization.objects.all()), pk=pk)  # scoped
    user = request.user
    context = {
        "organization": organization,
        "appliances": scoping.scope(user, Appliance.objects.filter(organization=organization)),  # scoped
        "assets": scoping.scope(user, Asset.objects.filter(organization=organization)).select_related("appliance"),  # scoped
        "saas_sources": scoping.scope(user, SaasSource.objects.filter(organization=organization)),  # scoped
        "threshold": _threshold(organization),
        "extensions": [
            (getattr(e, "label", "") or _label(e.name), e.read(organization))
            for e in ORGANIZATION_EXTENSIONS if e.name not in SHOWN_ELSEWHERE
        ],
        "alerts": scoping.scope(user, Alert.objects.filter(organization=organization))[:RECENT_ALERTS],  # scoped
        "open_count": scoping.scope(user, Alert.objects.filter(organization=organization, state="open")).count(),  # scoped
        "can_manage": scoping.can(user, scoping.MANAGE),
    }
    return render(request, "tenancy/organization.html", context)


@login_required
@require_POST
def organization_rename(request, pk):
    account = _superuser(request)
    organization = get_object_or_404(scoping.scope(request.user, Organization.objects.all()), pk=pk)  # scoped
    renamed, error = _save(request, account, organization)
    if renamed:
        messages.success(request, f"Renamed to {renamed.name}.")
    else:
        messages.error(request, f"Not renamed: {error}")
    return redirect("tenancy:organization", pk)


@login_required
def organization_delete(request, pk):
    """GET asks for confirmation and says what goes with it; POST deletes."""
    _superuser(request)
    organization = get_object_or_404(scoping.scope(request.user, Organization.objects.all()), pk=pk)  # scoped
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
