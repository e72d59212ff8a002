"""Cursor pagination for every list (API.md): `?page_size=` up to 500.

A cursor is the client's to send back unchanged; one that does not decode, or whose
position is not a value of the ordering field, is refused naming `cursor` (a 400, not
the 500 the database would answer when comparing an id with text).
"""

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from rest_framework import exceptions
from rest_framework.pagination import CursorPagination

from tenancy.validation import BIGINT_MAX

INVALID_CURSOR = "Not a cursor from this list: start again from its first page."


class CursorPage(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "-id"
    _model = None

    def paginate_queryset(self, queryset, request, view=None):
        self._model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound:
            raise exceptions.ValidationError({"cursor": [INVALID_CURSOR]}) from None
        if cursor is not None and cursor.position is not None and not self._position_fits(cursor.position):
            raise exceptions.ValidationError({"cursor": [INVALID_CURSOR]})
        return cursor

    def _position_fits(self, position: str) -> bool:
        if "\x00" in position:
            return False
        ordering = self.ordering[0] if isinstance(self.ordering, list | tuple) else self.ordering
        try:
            field = self._model._meta.get_field(ordering.lstrip("-"))
        except (AttributeError, FieldDoesNotExist):
            return True  # an annotation: the database compares it as text
        try:
            value = field.to_python(position)
        except (ValidationError, ValueError, TypeError, OverflowError):
            return False
        return not isinstance(field, models.IntegerField) or abs(value) <= BIGINT_MAX
