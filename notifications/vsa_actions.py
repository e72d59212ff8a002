"""VSA email actions (R13.4): per user, only their creator sees them — API `vsa-email-actions/`."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from drf_spectacular.utils import extend_schema_field
from rest_framework import mixins, serializers

from alerts.models import Alert
from notifications.models import VsaEmailAction
from tenancy import scoping
from tenancy.viewsets import ScopedViewSet

# Admins and superusers (API.md); monitors only look.
ACTION_RIGHT = scoping.DISMISS


def visible_to_owner(action, alert_ids) -> set[int]:
    """Ids among `alert_ids` the action's owner may act on now (R1, R13.4).

    An action speaks for its owner, so it follows them: a deactivated or removed
    owner, one who lost the right to own actions or moved to another account, sends
    nothing; a limited admin's action fires only for their organizations — decided
    by the same scoping as every page (R1.4), account-wide alerts included.
    """
    owner = action.owner
    if not scoping.can(owner, ACTION_RIGHT) or scoping.account_of(owner).pk != action.account_id:
        return set()
    return set(scoping.scope(owner, Alert.objects.filter(pk__in=alert_ids)).values_list("pk", flat=True))


def parse_recipients(value) -> list[str]:
    """Addresses separated by commas or spaces (or a list), each validated, no duplicates."""
    parts = value if isinstance(value, list) else re.split(r"[,;\s]+", str(value or ""))
    seen, recipients, bad = set(), [], []
    for part in (str(p).strip() for p in parts):
        if not part:
            continue
        try:
            validate_email(part)
        except ValidationError:
            bad.append(part)
            continue
        if part.lower() not in seen:
            seen.add(part.lower())
            recipients.append(part)
    if bad:
        raise ValidationError(f"Not an email address: {', '.join(bad)}.")
    if not recipients:
        raise ValidationError("Enter at least one email address.")
    return recipients


@extend_schema_field({
    "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string", "format": "email"}}],
    "description": "Addresses separated by commas or spaces, or a list; answered as a list.",
})
class RecipientsField(serializers.Field):
    default_error_messages = {"invalid": "Send addresses separated by commas or spaces."}

    def to_internal_value(self, data):
        if not isinstance(data, str | list):
            self.fail("invalid")
        try:
            return parse_recipients(data)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc

    def to_representation(self, value):
        return list(value)


class VsaEmailActionSerializer(serializers.ModelSerializer):
    recipients = RecipientsField()

    class Meta:
        model = VsaEmailAction
        fields = ["id", "area", "recipients", "created_at"]
        read_only_fields = ["created_at"]


class VsaEmailActionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
    mixins.UpdateModelMixin, mixins.DestroyModelMixin, ScopedViewSet,
):
    """R13.4: a user's own VSA email actions; someone else's — even in the same account — is 404."""

    queryset = VsaEmailAction.objects.all()
    serializer_class = VsaEmailActionSerializer
    read_action = ACTION_RIGHT
    write_action = ACTION_RIGHT
    http_method_names = ["get", "post", "patch", "delete"]

    def get_queryset(self):
        return super().get_queryset().filter(owner=self.request.user)

    def perform_create(self, serializer):
        serializer.save(account=self.account, owner=self.request.user)
