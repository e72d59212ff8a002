"""Figures about organizations that the list, the page and the API share (issue 8).

Counts follow reverse relations by name (`alerts`, `appliances`, …) so tenancy
needs no import of the rooms above it (ARCHITECTURE.md arrows). Callers pass
organizations already scoped to the user (R1.4), and an alert, appliance or
asset of an organization is only ever counted under that organization.
"""

from collections import defaultdict

from django.db.models import Count

from tenancy.models import Organization


def open_alert_counts(organization_ids) -> dict[int, dict[str, int]]:
    """{organization id: {kind: open alerts}} in one query."""
    rows = (
        Organization.objects.filter(pk__in=list(organization_ids), alerts__state="open")  # scoped: ids given
        .values("pk", "alerts__kind")
        .annotate(n=Count("alerts"))
    )
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for row in rows:
        counts[row["pk"]][row["alerts__kind"]] = row["n"]
    return counts


def alert_kind_label(kind: str) -> str:
    """How a kind of alert reads ("appliance_offline" → "Appliance offline"): the choices of the
    alerts that point at organizations, found by the relation's name as the counts are."""
    alert_kind = Organization._meta.get_field("alerts").related_model._meta.get_field("kind")
    return dict(alert_kind.flatchoices).get(kind, kind)


def contents(organization) -> dict[str, int]:
    """What goes with an organization when it is deleted (the confirmation says so)."""
    return {
        "appliances": organization.appliances.count(),
        "assets": organization.assets.count(),
        "alerts": organization.alerts.count(),
        "open_alerts": organization.alerts.filter(state="open").count(),
        "saas_sources": organization.saas_sources.count(),
    }


def describe_contents(figures: dict[str, int]) -> str:
    parts = [f"{figures['appliances']} appliance(s)", f"{figures['assets']} asset(s)"]
    text = "Deleting it also deletes " + ", ".join(parts) + "."
    # R15.2: alerts are not deleted; they resolve first and keep the organization's name.
    if figures["open_alerts"]:
        text += f" Its {figures['open_alerts']} open alert(s) are resolved first; alert history is kept."
    if figures["saas_sources"]:
        text += f" {figures['saas_sources']} SaaS source(s) become unmapped."
    return text


def needs_confirmation(figures: dict[str, int]) -> bool:
    return bool(figures["appliances"] or figures["assets"])
