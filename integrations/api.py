from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.response import Response

from integrations.models import Integration
from integrations.pollers import poll
from integrations.registry import test_connection
from integrations.removal import remove_integration
from integrations.serializers import IntegrationSerializer
from tenancy import scoping
from uniview.api import ScopedViewSet

RESULT = {"type": "object", "properties": {"ok": {"type": "boolean"}, "message": {"type": "string"}}}


class IntegrationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
    mixins.UpdateModelMixin, mixins.DestroyModelMixin, ScopedViewSet,
):
    """Settings > Integrations (superuser only, R1.3)."""

    queryset = Integration.objects.all()  # scoped
    serializer_class = IntegrationSerializer
    read_action = scoping.MANAGE
    filterset_fields = ["kind", "enabled"]

    def perform_create(self, serializer):
        serializer.save(account=self.account)

    def perform_destroy(self, instance):
        remove_integration(instance)  # R15.2

    @extend_schema(request=None, responses={200: RESULT})
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        ok, message = test_connection(self.get_object())
        return Response({"ok": ok, "message": message})

    @extend_schema(request=None, responses={200: RESULT})
    @action(detail=True, methods=["post"])
    def sync(self, request, pk=None):
        integration = self.get_object()
        message = poll(integration)
        integration.refresh_from_db()
        return Response({"ok": bool(integration.last_sync_ok), "message": message})
