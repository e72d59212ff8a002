"""The API's related-id field, scoped to the caller's account like every queryset (R1)."""

from rest_framework import serializers

from tenancy import scoping


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A related id that must belong to the caller's account: another account's id is 'not found'."""

    default_error_messages = {"does_not_exist": "No such object with id {pk_value}."}

    def get_queryset(self):
        request = self.context.get("request")
        return scoping.scope(request.user if request else None, super().get_queryset())
