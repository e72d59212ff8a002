"""`{{ user|can_manage }}`: whether the settings links (Integrations, Deliveries) apply to the user."""

from django import template

from tenancy import scoping

register = template.Library()


@register.filter
def can_manage(user) -> bool:
    return scoping.can(user, scoping.MANAGE)


@register.filter
def keeps_vsa_actions(user) -> bool:
    return scoping.can(user, scoping.DISMISS)
