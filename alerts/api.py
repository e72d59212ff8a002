from django.db.models import Prefetch
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from alerts import dismiss
from alerts.alert_settings import save_alert_settings
from alerts.evaluation import is_present, preview
from alerts.groups import open_groups
from alerts.models import Alert, AlertEvent, AlertSettings, AlertState, Evaluation, Severity
from alerts.serializers import (
    AlertDetailSerializer,
    AlertGroupSerializer,
    AlertSerializer,
    AlertSettingsSerializer,
    BulkDismissSerializer,
    DismissSerializer,
    EvaluationResultSerializer,
    EvaluationSerializer,
    PreviewSerializer,
)
from alerts.severity import rank_expression
from alerts.tasks import start_evaluation
from tenancy import scoping
from tenancy.jobs_api import BackgroundJobSerializer, wants_to_wait
from tenancy.models import Organization
from tenancy.pagination import CursorPage
from tenancy.viewsets import ScopedViewSet

DISMISSED = {"type": "object", "properties": {"dismissed": {"type": "integer", "description": "How many alerts."}},
             "required": ["dismissed"]}


class AlertFilter(filters.FilterSet):
    state = filters.ChoiceFilter(choices=AlertState.choices + [("all", "all")], method="filter_state")
    group = filters.CharFilter(field_name="group_key")
    since = filters.IsoDateTimeFilter(field_name="raised_at", lookup_expr="gte")
    severity = filters.MultipleChoiceFilter(choices=Severity.choices, help_text="R20.1: one or more severities.")

    class Meta:
        model = Alert
        fields = ["state", "organization", "group", "kind", "category", "severity", "asset", "appliance", "since"]

    def filter_state(self, queryset, name, value):
        return queryset if value == "all" else queryset.filter(state=value)

    @property
    def qs(self):
        queryset = super().qs
        if not self.form.cleaned_data.get("state"):
            queryset = queryset.filter(state=AlertState.OPEN)  # API.md: state defaults to open
        return queryset


ORDERINGS = {"-id": ("-id",), "severity": ("severity_rank", "-id"), "-severity": ("-severity_rank", "-id")}


class AlertPage(CursorPage):
    """The alert list's pages, newest first, or with `?ordering=severity` most severe first
    (`-severity`: least severe first), newest first within a severity (R20.1)."""

    def get_ordering(self, request, queryset, view):
        value = request.query_params.get("ordering") or "-id"
        if value not in ORDERINGS:
            raise ValidationError({"ordering": [f"Order by one of: {', '.join(ORDERINGS)}."]})
        return ORDERINGS[value]

    def _position_fits(self, position: str) -> bool:
        if self.ordering[0].lstrip("-") == "severity_rank":
            return position in ("0", "1", "2")
        return super()._position_fits(position)


class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = Alert.objects.all()  # scoped
    serializer_class = AlertSerializer
    filterset_class = AlertFilter
    pagination_class = AlertPage
    write_action = scoping.DISMISS

    @extend_schema(parameters=[OpenApiParameter(
        "ordering", str, enum=list(ORDERINGS),
        description="`-id` (default) newest first; `severity` most severe first; `-severity` least severe first.",
    )])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "list":
            queryset = queryset.annotate(severity_rank=rank_expression())
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                Prefetch("events", queryset=AlertEvent.objects.select_related("actor").prefetch_related("deliveries"))
            )
        return queryset

    def filter_queryset(self, queryset):
        # The list's filters (state defaults to open) never hide one alert asked for by id.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def get_serializer_class(self):
        return AlertDetailSerializer if self.action == "retrieve" else AlertSerializer

    @extend_schema(request=DismissSerializer, responses={200: DISMISSED})
    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        """R11.2: dismiss one alert, with an optional reason."""
        alert = self.get_object()
        body = DismissSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        count = dismiss.dismiss_alert(request.user, alert.pk, body.validated_data["reason"])
        if not count:
            return Response({"detail": "This alert is no longer open."}, status=status.HTTP_409_CONFLICT)
        return Response({"dismissed": count})

    @extend_schema(operation_id="alerts_dismiss_selection", request=BulkDismissSerializer, responses={200: DISMISSED})
    @action(detail=False, methods=["post"], url_path="dismiss")
    def dismiss_many(self, request):
        """R11.2 `{"all": true}`; R11.3 `{"organization": id, "group": key}` (superuser)."""
        body = BulkDismissSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if data["all"]:
            count = dismiss.dismiss_all(request.user, data["reason"])
        else:
            org = data["organization"]
            if org is not None and not scoping.scope(request.user, Organization.objects.all()).filter(pk=org).exists():  # scoped
                return Response({"errors": {"organization": [f"No such organization with id {org}."]}},
                                status=status.HTTP_400_BAD_REQUEST)
            count = dismiss.dismiss_selection(request.user, org, data["group"] or None, data["reason"])
        return Response({"dismissed": count})


class AlertGroupViewSet(mixins.ListModelMixin, ScopedViewSet):
    """R11.1: the open alerts grouped by organization and kind, with counts."""

    queryset = Alert.objects.filter(state=AlertState.OPEN)  # scoped
    serializer_class = AlertGroupSerializer
    pagination_class = None
    write_action = scoping.DISMISS
    lookup_value_regex = "[^/]+"
    filterset_fields = ["organization", "kind"]

    def list(self, request, *args, **kwargs):
        data = [
            {"key": g["group_key"], "organization": g["organization"], "kind": g["kind"],
             "label": g["group_label"], "open_count": g["open_count"], "severity": g["severity"]}
            for g in open_groups(self.filter_queryset(self.get_queryset()))
        ]
        return Response(AlertGroupSerializer(data, many=True).data)

    @extend_schema(request=DismissSerializer, responses={200: DISMISSED})
    @action(detail=True, methods=["post"], url_path="dismiss")
    def dismiss(self, request, pk=None):
        """R11.2: dismiss one group (admin or superuser)."""
        body = DismissSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if not self.get_queryset().filter(group_key=pk).exists():
            return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
        return Response({"dismissed": dismiss.dismiss_group(request.user, pk, body.validated_data["reason"])})


class AlertSettingsView(APIView):
    """Settings > Alerts: category toggles, purging, re-alert interval, email list."""

    serializer_class = AlertSettingsSerializer

    def _settings(self, request):
        return AlertSettings.for_account(scoping.account_of(request.user))

    @extend_schema(responses=AlertSettingsSerializer)
    def get(self, request):
        return Response(AlertSettingsSerializer(self._settings(request)).data)

    @extend_schema(request=AlertSettingsSerializer, responses=AlertSettingsSerializer)
    def patch(self, request):
        saved, errors = save_alert_settings(scoping.account_of(request.user), request.data, timezone.now())
        if errors:
            return Response({"errors": errors}, status=status.HTTP_400_BAD_REQUEST)
        return Response(AlertSettingsSerializer(saved).data)


class EvaluationView(APIView):
    """Evaluate the account now in a worker (202 with the job to poll); at another `now`, a
    read-only preview answered at once (R15.5). `?wait=1` answers the counts when done."""

    @extend_schema(
        request=EvaluationSerializer,
        parameters=[OpenApiParameter("wait", bool, description="Run now and answer the counts when done.")],
        responses={
            200: OpenApiResponse(
                PolymorphicProxySerializer("EvaluationAnswer", [PreviewSerializer, BackgroundJobSerializer], None),
                description="At a `now` other than the present: the read-only preview (R15.5). With `?wait=1`, "
                            "an evaluation that failed: its job, saying why.",
            ),
            201: OpenApiResponse(EvaluationResultSerializer,
                                 description="With `?wait=1`: the finished evaluation's counts, and its job."),
            202: OpenApiResponse(BackgroundJobSerializer,
                                 description="The evaluation is queued: poll the job's `url` until `finished`; "
                                             "its `result` then holds `raised`, `resolved` and `kept`."),
        },
    )
    def post(self, request):
        body = EvaluationSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        account = scoping.account_of(request.user)
        now = body.validated_data.get("now")
        if now is not None and not is_present(now):
            return Response(PreviewSerializer(preview(account, now)).data)
        job = start_evaluation(account, request.user, wait=wants_to_wait(request))
        data = BackgroundJobSerializer(job, context={"request": request}).data
        if job.state == job.State.DONE:
            run = Evaluation.objects.get(account=account, pk=job.result["evaluation"])
            answer = EvaluationResultSerializer(run, context={"request": request, "job": job}).data
            return Response(answer, status=status.HTTP_201_CREATED)
        if job.state == job.State.FAILED:
            return Response(data)
        return Response(data, status=status.HTTP_202_ACCEPTED)
