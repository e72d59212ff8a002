"""The REST API's shared parts: pagination, the error shape, and the scoped base viewset."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from tenancy import scoping


def _flatten(detail):
    if isinstance(detail, dict):
        return {key: _flatten(value) if isinstance(value, dict) else _as_list(value) for key, value in detail.items()}
    return _as_list(detail)


def _as_list(value):
    if isinstance(value, list):
        return [str(v) if not isinstance(v, dict) else _flatten(v) for v in value]
    return [str(value)]


def exception_handler(exc, context):
    """Errors answer `{"errors": {field: [message]}}` for validation, `{"detail": …}` otherwise."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        if isinstance(detail, list):
            detail = {"non_field_errors": detail}
        response.data = {"errors": _flatten(detail)}
    return response


def bad_request(field: str, message: str) -> Response:
    return Response({"errors": {field: [message]}}, status=status.HTTP_400_BAD_REQUEST)


class ScopedViewSet(viewsets.GenericViewSet):
    """Every API view's queryset goes through `tenancy.scope` (R1): another account's id is 404."""

    def get_queryset(self):
        return scoping.scope(self.request.user, super().get_queryset())

    @property
    def account(self):
        return scoping.account_of(self.request.user)


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A related id that must belong to the caller's account: another account's id is 'not found'."""

    default_error_messages = {"does_not_exist": "No such object with id {pk_value}."}

    def get_queryset(self):
        request = self.context.get("request")
        return scoping.scope(request.user if request else None, super().get_queryset())
