"""Template helpers for alert pages."""

from django import template
from django.conf import settings

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
def link_rows(links):
    """An alert's links as (label, href): the portal's own pages as paths, so the dashboard
    stays on the address it is served from; outside pages (a vendor's portal) as they are."""
    portal = settings.PORTAL_URL.rstrip("/")
    rows = []
    for name, url in (links or {}).items():
        if not isinstance(url, str):
            continue
        if portal and url.startswith(portal + "/"):
            url = url[len(portal):]
        rows.append((name.replace("_", " ").capitalize(), url))
    return rows


@register.filter
def group_dom_id(group_key):
    """A group key ("12:dbma_backup:sql") as a safe HTML id, so a dismissal can update the group by id."""
    return "group-" + str(group_key).encode().hex()
