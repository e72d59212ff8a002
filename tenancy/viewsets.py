"""The API's base viewset: every queryset goes through `tenancy.scope` (R1)."""

from rest_framework import viewsets

from tenancy import scoping


class ScopedViewSet(viewsets.GenericViewSet):
    """Every API view's queryset goes through `tenancy.scope` (R1): another account's id is 404."""

    def get_queryset(self):
        return scoping.scope(self.request.user, super().get_queryset())

    @property
    def account(self):
        return scoping.account_of(self.request.user)
