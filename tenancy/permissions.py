"""DRF permissions built on `tenancy.scoping.can`."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from tenancy import scoping
from tenancy.models import ApiToken, TokenScope


def token_scope(request) -> str:
    token = request.auth
    return token.scope if isinstance(token, ApiToken) else TokenScope.FULL


class IsMember(BasePermission):
    """Any member reads; writes need the view's `write_action` right (default: manage)."""

    def has_permission(self, request, view):
        if scoping.membership_of(request.user) is None:
            return False
        scope = token_scope(request)
        if request.method in SAFE_METHODS:
            read_action = getattr(view, "read_action", scoping.VIEW)
            return scoping.can(request.user, read_action)
        action = getattr(view, "write_action", scoping.MANAGE)
        if callable(action):
            action = action(request)
        if action == scoping.INGEST:
            # An ingest token is a superuser's token narrowed to ingestion; it never
            # exceeds its owner's role.
            return scope != TokenScope.READ and scoping.can(request.user, scoping.INGEST)
        if scope in (TokenScope.READ, TokenScope.INGEST):
            return False
        return scoping.can(request.user, action)
