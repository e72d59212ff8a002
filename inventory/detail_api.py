"""R12 in the API: `assets/{id}/` (the detail), `assets/{id}/recovery-points/`, `jobs/`, `jobs/{id}/cancel/`."""

from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.utils.serializer_helpers import ReturnDict

from inventory import asset_detail
from inventory.models import Job
from tenancy import scoping
from tenancy.api_errors import bad_request
from tenancy.pagination import CursorPage
from tenancy.validation import parse_id
from tenancy.viewsets import ScopedViewSet


class JobSerializer(serializers.ModelSerializer):
    appliance_name = serializers.CharField(source="appliance.name", read_only=True)
    asset_name = serializers.CharField(source="asset.name", read_only=True, default=None, allow_null=True)

    class Meta:
        model = Job
        fields = [
            "id", "appliance", "appliance_name", "asset", "asset_name", "backup", "external_id", "kind",
            "state", "started_at", "finished_at", "progress_percent", "details",
        ]


class PointSerializer(serializers.Serializer):
    id = serializers.CharField()
    kind = serializers.ChoiceField(choices=["backup", "copy"])
    type = serializers.CharField()
    status = serializers.CharField()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    size_bytes = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(allow_blank=True)
    target = serializers.CharField(allow_blank=True)


class ScheduleStartsSerializer(serializers.Serializer):
    """One of the asset's schedules (R4.7) with its last and next start."""

    name = serializers.CharField()
    rrule = serializers.CharField()
    dtstart = serializers.CharField()
    last_start = serializers.DateTimeField(allow_null=True)
    next_start = serializers.DateTimeField(allow_null=True)


class AssetDetailSerializer(serializers.Serializer):
    """R12.1, computed by `inventory.asset_detail.facts`."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    type = serializers.CharField()
    type_label = serializers.CharField()
    type_description = serializers.CharField()
    appliance = serializers.DictField()
    organization = serializers.IntegerField()
    last_full_backup_size_bytes = serializers.IntegerField(allow_null=True)
    last_local_backup = serializers.DictField(allow_null=True)
    last_backup_copy = serializers.DictField(allow_null=True)
    last_certified_at = serializers.DateTimeField(allow_null=True)
    active_jobs = JobSerializer(many=True)
    backup_schedules = ScheduleStartsSerializer(many=True)
    legend = serializers.SerializerMethodField()

    def get_legend(self, _) -> dict:
        return {name: text for name, (_, text) in asset_detail.STATUS_LEGEND.items()}


class AssetDetailMixin:
    """Mixed into `inventory.api.AssetViewSet`: its retrieve answers the R12.1 detail."""

    @extend_schema(responses=AssetDetailSerializer)
    def retrieve(self, request, *args, **kwargs):
        asset = self.get_object()
        data = AssetDetailSerializer(asset_detail.facts(asset, timezone.now())).data
        # The body is the detail, but the browsable API builds its edit form from the data's
        # serializer: give it the asset's own, not the detail's (a dict it cannot edit).
        return Response(ReturnDict(data, serializer=self.get_serializer(asset)))

    @extend_schema(
        parameters=[OpenApiParameter("cursor", str), OpenApiParameter("page_size", int)],
        responses=PointSerializer(many=True),
        filters=False,  # the assets list's filters do not apply to one asset's points
    )
    @action(detail=True, methods=["get"], url_path="recovery-points")
    def recovery_points(self, request, pk=None):
        """R12.1: local backups and copies, newest first, cursor-paged."""
        asset = self.get_object()
        size = request.query_params.get("page_size", str(CursorPage.page_size))
        if parse_id(size) is None or not 1 <= parse_id(size) <= CursorPage.max_page_size:
            return bad_request("page_size", f"A whole number from 1 to {CursorPage.max_page_size}.")
        try:
            page, cursor = asset_detail.recovery_points(asset, request.query_params.get("cursor"), int(size))
        except asset_detail.InvalidCursor as exc:
            return bad_request("cursor", str(exc))
        next_url = None
        if cursor:
            next_url = request.build_absolute_uri(f"{request.path}?cursor={cursor}&page_size={size}")
        return Response({
            "next": next_url, "previous": None,
            "results": PointSerializer([p.as_dict() for p in page], many=True).data,
        })


class JobFilter(filters.FilterSet):
    state = filters.CharFilter(method="filter_state")

    class Meta:
        model = Job
        fields = ["state", "appliance", "asset"]

    def filter_state(self, queryset, name, value):
        # `running` and `active` both mean "still going" (R12.2 "see all"): running, queued or cancelling.
        if value in ("running", "active"):
            return queryset.filter(state__in=asset_detail.ACTIVE_JOB_STATES)
        return queryset.filter(state=value)


class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Jobs on the account's appliances; cancel is admin or superuser (R12.2, R1.2)."""

    queryset = Job.objects.select_related("appliance", "asset")
    serializer_class = JobSerializer
    filterset_class = JobFilter
    write_action = scoping.DISMISS

    @extend_schema(request=None, responses=JobSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        job = self.get_object()
        try:
            job = asset_detail.cancel_job(job)
        except asset_detail.CancelFailed as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(JobSerializer(job).data)
