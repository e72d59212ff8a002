"""Template helpers for alert pages."""

from django import template

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
