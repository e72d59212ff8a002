"""API `webhooks/` (issue 18): a superuser's signed outbound webhooks, scoped to the account.

The secret is write-only: reads show it masked; the answer to a create carries it in
full once (generated when none was sent), and no read ever does again.
"""

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from alerts.categories import KINDS
from integrations.crypto import mask
from integrations.url_guard import UnsafeURL, check
from notifications.channels import webhook
from notifications.models import WebhookEndpoint
from tenancy import scoping
from tenancy.fields import ScopedPrimaryKeyRelatedField
from tenancy.models import Organization
from tenancy.viewsets import ScopedViewSet


def guarded_url(value: str) -> str:
    """The outbound guard on save (issue 7): a URL the portal may never call is refused now."""
    try:
        return check(value)
    except UnsafeURL as exc:
        raise serializers.ValidationError(str(exc)) from exc


class WebhookEndpointSerializer(serializers.ModelSerializer):
    secret = serializers.CharField(
        write_only=True, required=False, min_length=16, max_length=200,
        help_text="Signs every call. Leave it out to have one generated; it is shown once, in the answer to the create.",
    )
    secret_masked = serializers.SerializerMethodField()
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEndpoint.EVENTS), required=False,
                                   help_text="Event types sent (raised, resolved, dismissed); empty sends all.")
    kinds = serializers.ListField(child=serializers.ChoiceField(choices=list(KINDS)), required=False,
                                  help_text="Alert kinds sent; empty sends all.")
    severities = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEndpoint.SEVERITIES),
                                       required=False, help_text="Severities sent; empty sends all.")
    organizations = ScopedPrimaryKeyRelatedField(many=True, required=False, queryset=Organization.objects.all(),
                                                 help_text="Organizations whose alerts are sent; empty sends all.")

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id", "name", "url", "secret", "secret_masked", "events", "kinds", "severities", "organizations",
            "enabled", "disabled_reason", "created_at",
        ]
        read_only_fields = ["disabled_reason", "created_at"]

    def get_secret_masked(self, endpoint) -> str:
        return mask(endpoint.secret)

    def validate_url(self, value):
        return guarded_url(value)

    def validate_secret(self, value):
        if value != value.strip() or any(c.isspace() for c in value):
            raise serializers.ValidationError("A secret holds no spaces.")
        return value

    def save(self, **kwargs):
        secret = self.validated_data.pop("secret", None)
        if self.instance is None:
            secret = secret or webhook.new_secret()
        if secret:
            kwargs["secret_store"] = {"secret": secret}
        if self.validated_data.get("enabled"):
            kwargs["disabled_reason"] = ""  # enabled again by a person: the old reason no longer holds
        with transaction.atomic():
            return super().save(**kwargs)


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    """The answer to a create: the only time the secret is shown in full."""

    secret_once = serializers.SerializerMethodField(help_text="The secret in full, shown this once.")

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret_once"]

    def get_secret_once(self, endpoint) -> str:
        return endpoint.secret


class WebhookTestResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    status = serializers.IntegerField(allow_null=True, help_text="The receiver's HTTP status, if it answered.")
    detail = serializers.CharField()


def send_test(endpoint) -> dict:
    """Send a `test` event now, outside the outbox: a person is waiting for the answer."""
    try:
        code = webhook.post(endpoint, webhook.ping_payload())
    except (webhook.PermanentError, webhook.TransientError) as exc:
        return {"ok": False, "status": None, "detail": str(exc)}
    return {"ok": True, "status": code, "detail": f"The receiver accepted the test event (HTTP {code})."}


class WebhookEndpointViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
    mixins.UpdateModelMixin, mixins.DestroyModelMixin, ScopedViewSet,
):
    """Issue 18: superuser only; another account's webhook is 404."""

    queryset = WebhookEndpoint.objects.prefetch_related("organizations")
    serializer_class = WebhookEndpointSerializer
    read_action = scoping.MANAGE
    write_action = scoping.MANAGE
    http_method_names = ["get", "post", "patch", "delete"]

    @extend_schema(responses={201: WebhookEndpointCreatedSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = serializer.save(account=self.account)
        return Response(WebhookEndpointCreatedSerializer(endpoint, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=WebhookTestResultSerializer)
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        return Response(send_test(self.get_object()))
