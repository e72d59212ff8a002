"""`{{ user|can_manage }}`: whether the settings links (Integrations, Deliveries) apply to the user."""

from django import template
from django.utils.safestring import mark_safe

from tenancy import scoping

register = template.Library()


@register.filter
def can_manage(user) -> bool:
    return scoping.can(user, scoping.MANAGE)


@register.filter
def keeps_vsa_actions(user) -> bool:
    return scoping.can(user, scoping.DISMISS)


@register.simple_tag(takes_context=True)
def current(context, prefix: str, exact: bool = False) -> str:
    """` aria-current="page"` on the menu link of the page being shown (a prefix of its path)."""
    request = context.get("request")
    path = getattr(request, "path", "")
    hit = path == prefix if exact else path.startswith(prefix)
    return mark_safe(' aria-current="page"') if hit else ""
