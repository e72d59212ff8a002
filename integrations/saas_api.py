"""`saas-sources/` (M365 tenants, Google domains, Salesforce orgs, with their mapping) and
`ingest/saas-status/` (pushed daily statuses, R8.2). Writing a source evaluates the
account at once, so mapping and unmapping take effect now (R8.1, R14.1).
"""


from django.db import transaction
from django.db.models import OuterRef, Subquery
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory import due, lifecycle
from inventory.models import SaasDailyStatus, SaasSource
from inventory.signals import ask_evaluation
from tenancy import scoping
from tenancy.fields import ScopedPrimaryKeyRelatedField
from tenancy.models import Organization
from tenancy.validation import BIGINT_MAX, date_error
from tenancy.viewsets import ScopedViewSet

MAX_STATUSES = 5000


class SaasSourceSerializer(serializers.ModelSerializer):
    organization = ScopedPrimaryKeyRelatedField(queryset=Organization.objects.all(), allow_null=True, required=False)
    latest_status = serializers.SerializerMethodField()

    class Meta:
        model = SaasSource
        fields = [
            "id", "kind", "name", "external_id", "organization", "integration_id", "licenses", "users",
            "assigned", "license_status", "latest_status", "created_at",
        ]
        read_only_fields = ["integration_id", "licenses", "users", "assigned", "license_status", "created_at"]

    def get_latest_status(self, source) -> dict | None:
        if hasattr(source, "latest_date"):  # annotated by the viewset for the whole page
            latest_date, latest_status = source.latest_date, source.latest_status_value
        else:
            latest = source.daily_statuses.order_by("-date").values_list("date", "status").first()
            latest_date, latest_status = latest or (None, None)
        return {"date": latest_date.isoformat(), "status": latest_status} if latest_date else None

    def validate(self, attrs):
        if self.instance is not None:
            for name in ("kind", "external_id"):
                if name in attrs and attrs[name] != getattr(self.instance, name):
                    raise serializers.ValidationError({name: ["This cannot change; register a new source."]})
            return attrs
        account = self.context["account"]
        if SaasSource.objects.filter(account=account, kind=attrs["kind"], external_id=attrs["external_id"]).exists():
            raise serializers.ValidationError({"external_id": ["A source of this kind with this id exists."]})
        return attrs


_newest = SaasDailyStatus.objects.filter(source=OuterRef("pk")).order_by("-date")


class SaasSourceViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
    mixins.DestroyModelMixin, ScopedViewSet,
):
    queryset = SaasSource.objects.select_related("organization").annotate(
        latest_date=Subquery(_newest.values("date")[:1]),
        latest_status_value=Subquery(_newest.values("status")[:1]),
    )
    serializer_class = SaasSourceSerializer
    filterset_fields = ["kind", "organization"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "account": self.account}

    def perform_create(self, serializer):
        serializer.save(account=self.account)
        ask_evaluation(self.account)

    def perform_update(self, serializer):
        serializer.save()
        ask_evaluation(self.account)  # R8.1: unmapping resolves now; R15.1: a remap moves its alerts

    def perform_destroy(self, instance):
        lifecycle.remove_saas_source(instance)  # R15.2: its alerts resolve first


class SaasStatusItem(serializers.Serializer):
    source = serializers.IntegerField(min_value=1, max_value=BIGINT_MAX)
    date = serializers.DateField()
    status = serializers.ChoiceField(choices=SaasDailyStatus.Status.choices)
    services = serializers.DictField(required=False, default=dict)

    def validate_date(self, value):
        problem = date_error(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value


class IngestSaasStatusView(APIView):
    """Pushed daily statuses; a known (source, date) is updated, a new one created."""

    write_action = scoping.INGEST

    @extend_schema(request=SaasStatusItem(many=True), responses={200: {
        "type": "object", "required": ["created", "updated"],
        "properties": {"created": {"type": "integer"}, "updated": {"type": "integer"}}}})
    def post(self, request):
        account = scoping.account_of(request.user)
        items = request.data if isinstance(request.data, list) else None
        if items is None or len(items) > MAX_STATUSES:
            return Response({"errors": {"items": [f"Send a list of at most {MAX_STATUSES} statuses."]}},
                            status=status.HTTP_400_BAD_REQUEST)
        parsed = SaasStatusItem(data=items, many=True)
        if not parsed.is_valid():
            found = parsed.errors
            pairs = found.items() if isinstance(found, dict) else enumerate(found)
            errors = {str(i): e for i, e in pairs if e}
            return Response({"errors": errors}, status=status.HTTP_400_BAD_REQUEST)
        sources = {s.pk: s for s in scoping.scope(request.user, SaasSource.objects.all())}
        unknown = {str(i): {"source": ["No such source."]} for i, row in enumerate(parsed.validated_data)
                   if row["source"] not in sources}
        if unknown:
            return Response({"errors": unknown}, status=status.HTTP_400_BAD_REQUEST)
        counts = _store(account, sources, parsed.validated_data)
        ask_evaluation(account)  # R14.1: SaaS evaluation runs when a status arrives
        return Response(counts)


def _store(account, sources, rows) -> dict:
    """One upsert for the batch; a (source, date) sent twice keeps its last row."""
    wanted = {(row["source"], row["date"]): row for row in rows}
    existing = set(
        SaasDailyStatus.objects.filter(source_id__in={s for s, _ in wanted}, date__in={d for _, d in wanted})
        .values_list("source_id", "date")
    )
    with transaction.atomic():
        SaasDailyStatus.objects.bulk_create(
            [
                SaasDailyStatus(account=account, source=sources[source], date=day, status=row["status"],
                                services=row["services"])
                for (source, day), row in wanted.items()
            ],
            update_conflicts=True, unique_fields=["source", "date"], update_fields=["account", "status", "services"],
            batch_size=1000,
        )
        due.sources_changed(source for source, _ in wanted)  # evaluation by due time
    updated = len(wanted.keys() & existing)
    return {"created": len(wanted) - updated, "updated": updated}
