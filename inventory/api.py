from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory import lifecycle
from inventory.detail_api import AssetDetailMixin
from inventory.ingest import ingest_backups
from inventory.models import Appliance, Asset
from inventory.serializers import ApplianceSerializer, AssetSerializer
from tenancy import scoping
from tenancy.viewsets import ScopedViewSet


class ApplianceViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
    mixins.UpdateModelMixin, mixins.DestroyModelMixin, ScopedViewSet,
):
    queryset = Appliance.objects.select_related("organization")
    serializer_class = ApplianceSerializer
    filterset_fields = ["organization", "status"]

    def write_action(self, request):
        return scoping.INGEST if self.action == "check_in" else scoping.MANAGE

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "account": self.account}

    def perform_create(self, serializer):
        serializer.save(account=self.account)

    def perform_update(self, serializer):
        with transaction.atomic():
            lifecycle.follow_appliance(serializer.save())  # R15.1: its assets move with it

    def perform_destroy(self, instance):
        lifecycle.remove_appliance(instance)  # R15.2

    @extend_schema(request=None, responses=ApplianceSerializer)
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request, pk=None):
        """The appliance (or a script on its behalf) is alive now."""
        appliance = self.get_object()
        appliance.last_contact_at = timezone.now()
        appliance.status = Appliance.Status.ONLINE
        appliance.save(update_fields=["last_contact_at", "status", "updated_at"])
        return Response(self.get_serializer(appliance).data)


class AssetViewSet(
    AssetDetailMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
    mixins.UpdateModelMixin, mixins.DestroyModelMixin, ScopedViewSet,
):
    queryset = Asset.objects.select_related("appliance").prefetch_related("backup_schedules")
    serializer_class = AssetSerializer
    filterset_fields = ["appliance", "organization", "type", "hot_copy"]

    def perform_destroy(self, instance):
        lifecycle.remove_asset(instance)  # R15.2


class IngestBackupsView(APIView):
    """Bulk, idempotent ingestion of backups and copies (≤ 5,000 per request).

    All or nothing by default (400 naming item and field). With `?partial=true`
    the good items land and the answer lists the bad ones by index and field.
    """

    write_action = scoping.INGEST

    @extend_schema(
        request={"application/json": {"type": "array", "items": {"type": "object"}}},
        parameters=[OpenApiParameter("partial", bool, description="Land the good items; list the bad ones in `errors`.")],
        responses={200: {"type": "object", "required": ["created", "updated", "unchanged"], "properties": {
            "created": {"type": "integer"}, "updated": {"type": "integer"}, "unchanged": {"type": "integer"},
            "errors": {"type": "object", "additionalProperties": {}, "description": "With `?partial=true`: the "
                       "items left out, by index and field."}}}},
    )
    def post(self, request):
        partial = request.query_params.get("partial", "").lower() in ("1", "true", "yes")
        result = ingest_backups(scoping.account_of(request.user), request.data, partial=partial)
        if result.errors and (not partial or "items" in result.errors):
            return Response({"errors": result.errors}, status=status.HTTP_400_BAD_REQUEST)
        # ?partial=true: the good items landed; the bad ones are reported by index and field.
        return Response({**result.as_dict(), "errors": result.errors} if partial else result.as_dict())
