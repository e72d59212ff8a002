from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from notifications.models import Delivery, DeliveryAttempt
from notifications.tasks import retry_by_hand
from tenancy import scoping
from tenancy.viewsets import ScopedViewSet


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["started_at", "duration_ms", "ok", "error"]


class DeliverySerializer(serializers.ModelSerializer):
    event = serializers.UUIDField(source="event.uuid", read_only=True)
    event_type = serializers.CharField(source="event.type", read_only=True)
    alert = serializers.IntegerField(source="event.alert_id", read_only=True)
    attempt_log = DeliveryAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id", "channel", "target", "event", "event_type", "alert", "state", "attempts",
            "next_attempt_at", "last_error", "external_ref", "created_at", "sent_at", "attempt_log",
        ]


class DeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Settings > Deliveries: the outbox, superuser only (R13.5)."""

    queryset = Delivery.objects.select_related("event").prefetch_related("attempt_log")
    serializer_class = DeliverySerializer
    read_action = scoping.MANAGE
    filterset_fields = ["state", "channel"]

    @extend_schema(request=None, responses=DeliverySerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        delivery = self.get_object()
        if not retry_by_hand(delivery):
            return Response({"detail": "Only a failed delivery can be retried."}, status=status.HTTP_409_CONFLICT)
        delivery.refresh_from_db()
        return Response(self.get_serializer(delivery).data)
