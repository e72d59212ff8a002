"""Protect pages: Microsoft 365 tenants, Google Workspace domains, Salesforce orgs, Microsoft Azure assets.

Each source shows its mapping (a superuser changes it), its license figures where
the vendor gives them, and its recent daily results per service (R8.2). Mapping
changes evaluate the account at once (R8.1: unmapping resolves).
"""

from datetime import timedelta

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone

from integrations import kinds, mapping
from integrations.models import Integration
from integrations.suggestions import suggest
from inventory import lifecycle
from inventory.models import AzureAsset, DattoClient, SaasDailyStatus, SaasSource
from inventory.signals import ask_evaluation
from tenancy.models import Organization
from tenancy.pages import MANAGE, NotFound, member_page
from tenancy.validation import parse_id

RECENT_DAYS = 7
KINDS = {
    "m365": ("Microsoft 365 tenants", ["Mail", "Calendar", "Contact", "Drive", "SharePoint", "Teams Channel"]),
    "gws": ("Google Workspace domains", ["Site", "Document", "Mail", "Calendar", "Contact"]),
    "salesforce": ("Salesforce organizations", []),
}


def _rows(member, sources):
    """Each source with its recent days, newest first, and per-service cells (R8.2)."""
    statuses = {}
    recent = timezone.now().date() - timedelta(days=31)  # bounded read; a page shows the last days only
    queryset = member.scope(SaasDailyStatus).filter(source__in=sources, date__gte=recent)
    for status in queryset.order_by("-date"):
        statuses.setdefault(status.source_id, [])
        if len(statuses[status.source_id]) < RECENT_DAYS:
            statuses[status.source_id].append(status)
    return [(source, statuses.get(source.pk, [])) for source in sources]


@member_page
def index(request, member):
    sources = member.scope(SaasSource)
    counts = {kind: sources.filter(kind=kind).count() for kind in KINDS}
    azure = member.scope(AzureAsset).count()
    integrations = member.scope(Integration).filter(kind__in=kinds.with_role(kinds.SAAS)).order_by("name")
    return render(request, "protect/index.html", {
        "kinds": KINDS, "counts": counts, "azure_count": azure,
        "integrations": integrations, "can_sync": member.can(MANAGE),
    })


@member_page
def source_list(request, member, kind):
    if kind not in KINDS:
        raise NotFound("No such kind of source.")
    sources = list(member.scope(SaasSource).filter(kind=kind).select_related("organization"))
    organizations = list(member.scope(Organization).order_by("name"))
    for source in sources:  # an unmapped source gets the organization its name suggests
        source.suggestion = None if source.organization_id else suggest(source.name, organizations)
    return render(request, "protect/sources.html", {
        "kind": kind, "title": KINDS[kind][0], "services": KINDS[kind][1],
        "rows": _rows(member, sources), "can_map": member.can(MANAGE),
        "organizations": organizations,
    })


@member_page
def source_detail(request, member, pk):
    source = member.get(member.scope(SaasSource).select_related("organization"), pk=pk)
    since = timezone.now().date() - timedelta(days=30)
    days = source.daily_statuses.filter(date__gte=since).order_by("-date")
    return render(request, "protect/source.html", {
        "source": source, "days": days, "services": KINDS[source.kind][1],
        "can_map": member.can(MANAGE),
        "organizations": member.scope(Organization),
    })


def _organization_from(request, member):
    """The posted organization id (scoped), None for "unmapped"; a foreign id is 404."""
    value = request.POST.get("organization", "")
    if value == "":
        return None
    if parse_id(value) is None:
        raise NotFound("No such organization.")
    return member.get(Organization, pk=parse_id(value))


@member_page(methods=["POST"], require=MANAGE, refusal="Only a superuser changes mappings.")
def map_source(request, member, pk):
    source = member.get(SaasSource, pk=pk)
    source.organization = _organization_from(request, member)
    source.save(update_fields=["organization"])
    ask_evaluation(member.account)  # R8.1: mapping raises, unmapping resolves, now
    messages.success(request, f"{source.name} is now {'mapped to ' + source.organization.name if source.organization else 'unmapped'}.")
    return redirect("protect:sources", kind=source.kind)


@member_page(methods=["POST"], require=MANAGE, refusal="Only a superuser removes sources.")
def remove_source(request, member, pk):
    """R15.2: its open alerts resolve first (tickets close where the PSA closes on resolve)."""
    source = member.get(SaasSource, pk=pk)
    name, kind = source.name, source.kind
    lifecycle.remove_saas_source(source)
    messages.success(request, f"Removed {name}; its open alerts are resolved. A source Spanning still lists "
                              "comes back at the next poll.")
    return redirect("protect:sources", kind=kind)


@member_page
def azure(request, member):
    clients = list(member.scope(DattoClient).select_related("organization"))
    assets = member.scope(AzureAsset).select_related("organization").order_by("module", "name")
    by_client = {}
    for asset in assets:
        by_client.setdefault((asset.integration_id, asset.client_external_id), []).append(asset)
    rows = [(c, by_client.get((c.integration_id, c.external_id), [])) for c in clients]
    return render(request, "protect/azure.html", {
        "rows": rows, "can_map": member.can(MANAGE),
        "organizations": member.scope(Organization),
    })


@member_page(methods=["POST"], require=MANAGE, refusal="Only a superuser changes mappings.")
def map_datto_client(request, member, pk):
    client = member.get(DattoClient, pk=pk)
    mapping.remap(client, _organization_from(request, member))
    ask_evaluation(member.account)  # R9.3: only mapped clients' assets alert
    messages.success(request, f"Datto client {client.name} mapping saved.")
    return redirect("protect:azure")


urlpatterns = [
    path("", index, name="index"),
    path("azure/", azure, name="azure"),
    path("azure/clients/<int:pk>/map/", map_datto_client, name="map-datto-client"),
    path("sources/<int:pk>/", source_detail, name="source"),
    path("sources/<int:pk>/map/", map_source, name="map-source"),
    path("sources/<int:pk>/remove/", remove_source, name="remove-source"),
    path("<str:kind>/", source_list, name="sources"),
]
