"""Describe `Authorization: Bearer <token>` and a token's scope in the OpenAPI document."""

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.plumbing import build_choice_field
from rest_framework import serializers

from tenancy.models import TokenScope


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "tenancy.auth.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token from `manage.py create_api_token` (shown once, stored hashed).",
        }


class TokenScopeFieldSchema(OpenApiSerializerFieldExtension):
    """A token may be asked for with read, write or ingest; one read back may also be `full`."""

    target_class = "tenancy.user_api.TokenScopeField"

    def map_serializer_field(self, auto_schema, direction):
        if direction == "response":
            return build_choice_field(serializers.ChoiceField(choices=TokenScope.choices))
        return auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
