"""The one place that answers what a user may see and do (R1).

Every dashboard view, API view and queryset of tenant data goes through
`scope()`. A model says how it reaches its account and organization with two
class attributes:

    tenancy_account_field = "account"              # default
    tenancy_organization_field = "organization"    # None: not organization-bound

An object of another account is simply absent from the scoped queryset, so a
lookup answers 404 (R1.1), never 403.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from tenancy.models import Membership, Role

VIEW = "view"
DISMISS = "dismiss"  # R1.2: one alert, a group, or all
DISMISS_SELECTION = "dismiss_selection"  # R1.3: by organization and/or group
MANAGE = "manage"  # R1.3, R1.6: thresholds, settings, integrations, users and invitations, inventory writes
INGEST = "ingest"

_ALLOWED = {
    Role.SUPERUSER: {VIEW, DISMISS, DISMISS_SELECTION, MANAGE, INGEST},
    Role.ADMIN: {VIEW, DISMISS},
    Role.MONITOR: {VIEW},
}


def membership_of(user) -> Membership | None:
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    cached = getattr(user, "_uniview_membership", None)
    if cached is not None:
        return cached
    membership = Membership.objects.select_related("account").filter(user=user).first()
    user._uniview_membership = membership
    return membership


def account_of(user):
    membership = membership_of(user)
    return membership.account if membership else None


def member_account(user):
    """The user's account; PermissionDenied for a user who belongs to none (every dashboard page)."""
    account = account_of(user)
    if account is None:
        raise PermissionDenied("Your user is not a member of any account.")
    return account


def can(user, action: str) -> bool:
    membership = membership_of(user)
    return membership is not None and action in _ALLOWED[membership.role]


def require(user, action: str, refusal: str) -> None:
    """PermissionDenied saying `refusal` (the 403 page and the API show it) unless `user` may do `action`."""
    if not can(user, action):
        raise PermissionDenied(refusal)


def organization_limit(user) -> list[int] | None:
    """Ids of the organizations a limited admin/monitor may see; None means all (R1.4).

    R1.6: only an explicit `all_organizations` means all. A limit whose organizations
    were all deleted is `[]`, a limit to nothing, never "all".
    """
    membership = membership_of(user)
    if membership is None or membership.role == Role.SUPERUSER or membership.all_organizations:
        return None
    cache = getattr(membership, "_org_ids", None)
    if cache is None:
        cache = list(membership.organizations.values_list("id", flat=True))
        membership._org_ids = cache
    return cache


def scope(user, queryset: QuerySet) -> QuerySet:
    """`queryset` limited to what `user` may see; empty for strangers."""
    membership = membership_of(user)
    if membership is None:
        return queryset.none()
    model = queryset.model
    account_field = getattr(model, "tenancy_account_field", "account")
    queryset = queryset.filter(**{account_field: membership.account_id})
    org_ids = organization_limit(user)
    org_field = getattr(model, "tenancy_organization_field", None)
    if org_ids is not None and org_field:
        # Objects bound to no organization (account-wide alerts) are hidden from
        # a limited user: they may concern organizations outside the limit.
        queryset = queryset.filter(Q(**{f"{org_field}__in": org_ids}))
    return queryset
