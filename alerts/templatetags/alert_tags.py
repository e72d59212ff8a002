"""Template helpers for alert pages."""

import re

from django import template
from django.conf import settings
from django.urls import reverse

from alerts import details_text, severity

register = template.Library()


@register.filter
def detail_rows(details):
    """An alert's scalar details as (label, value) rows; lists and objects have their own partials."""
    rows = []
    for key, value in (details or {}).items():
        if isinstance(value, dict | list):
            continue
        if value is None or value == "":
            value = "—"
        rows.append((key.replace("_", " ").capitalize(), value))
    return rows


@register.filter
def detail_lines(details):
    """Every detail as (label, text), the checklist one check a row (emails and tickets)."""
    return details_text.detail_lines(details)


# Why an alert resolved, as the alert's page says it; the stored keys are for programs (API).
RESOLVED_REASONS = {
    "cleared": "the condition cleared",
    "superseded": "a newer alert replaced it",  # R8.5
    "category_disabled": "its category was switched off",  # R2.1
    "subject_removed": "its subject was removed",  # R15.2
}


@register.filter
def reason_text(reason):
    """A resolution's stored key as words; any other reason (a person's, a move) is already words."""
    return RESOLVED_REASONS.get(reason, reason)


@register.filter
def link_rows(links):
    """An alert's links as (label, href): the portal's own pages as paths, so the dashboard
    stays on the address it is served from; outside pages (a vendor's portal) as they are."""
    portal = settings.PORTAL_URL.rstrip("/")
    rows = []
    for name, url in (links or {}).items():
        if not isinstance(url, str):
            continue
        if portal and url.startswith(portal + "/"):
            url = _dashboard_page(url[len(portal):])
            if url is None:
                continue
        rows.append((name.replace("_", " ").capitalize(), url))
    return rows


# Alerts raised before their links led to dashboard pages still hold API addresses; the page
# shows the dashboard page instead (an API page is for programs, and offers DELETE buttons).
_API_PAGES = [
    (re.compile(r"^/api/v1/appliances/(\d+)/$"), "inventory:appliance"),
    (re.compile(r"^/api/v1/assets/(\d+)/$"), "inventory:asset"),
    (re.compile(r"^/api/v1/integrations/(\d+)/$"), "integrations:edit"),
]


def _dashboard_page(path):
    if not path.startswith("/api/"):
        return path
    for pattern, name in _API_PAGES:
        match = pattern.match(path)
        if match:
            return reverse(name, args=[int(match.group(1))])
    return None  # an API list has no page of its own: the alert's page already shows what it lists


@register.filter
def group_dom_id(group_key):
    """A group key ("12:dbma_backup:sql") as a safe HTML id, so a dismissal can update the group by id."""
    return "group-" + str(group_key).encode().hex()


@register.filter
def severity_label(value):
    """R20.1: a severity as a person reads it."""
    return severity.label(value or severity.WARNING)


@register.filter
def is_ransomware(alert_or_group):
    """R20.1: possible ransomware (an appliance's security alert, or a group of them) is shown
    unmistakably, not as one more critical alert."""
    if isinstance(alert_or_group, dict):
        key = alert_or_group.get("group_key") or ""
        return alert_or_group.get("kind") == "appliance_alert" and key.endswith(":security")
    return getattr(alert_or_group, "kind", "") == "appliance_alert" and getattr(alert_or_group, "category", "") == "security"
