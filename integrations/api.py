from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from integrations.connection import test_connection
from integrations.models import Integration
from integrations.removal import remove_integration
from integrations.serializers import IntegrationSerializer
from integrations.tasks import start_sync
from tenancy import scoping
from tenancy.jobs_api import BackgroundJobSerializer, wants_to_wait
from tenancy.viewsets import ScopedViewSet

RESULT = {"type": "object", "properties": {"ok": {"type": "boolean"}, "message": {"type": "string"}},
          "required": ["ok", "message"]}
SYNC_RESULT = {"type": "object", "properties": {
    **RESULT["properties"], "job": {"$ref": "#/components/schemas/BackgroundJob"},
}, "required": ["ok", "message", "job"]}


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

    @extend_schema(
        request=None,
        parameters=[OpenApiParameter("wait", bool, description="Sync now and answer its outcome when done.")],
        responses={
            200: OpenApiResponse(SYNC_RESULT, description="With `?wait=1`: whether the sync worked, what it "
                                                          "did, and its job."),
            202: OpenApiResponse(BackgroundJobSerializer, description="The sync is queued: poll the job's `url` "
                                                                      "until `finished`; its `result` then holds "
                                                                      "`ok` and `message`."),
        },
    )
    @action(detail=True, methods=["post"])
    def sync(self, request, pk=None):
        """Sync now in a worker: 202 with the job to poll; `?wait=1` answers `ok` and `message` when done."""
        job = start_sync(self.get_object(), request.user, wait=wants_to_wait(request))
        data = BackgroundJobSerializer(job, context={"request": request}).data
        if job.finished:
            return Response({"ok": job.state == job.State.DONE, "message": job.summary, "job": data})
        return Response(data, status=status.HTTP_202_ACCEPTED)
