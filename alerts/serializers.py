from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from alerts.categories import CATEGORIES, KIND_CHOICES
from alerts.models import Alert, AlertEvent, AlertSettings, Evaluation, Severity
from tenancy.jobs_api import BackgroundJobSerializer
from tenancy.validation import time_error


class AlertSerializer(serializers.ModelSerializer):
    group = serializers.CharField(source="group_key")
    ref = serializers.CharField(read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id", "ref", "kind", "category", "severity", "title", "organization", "organization_name", "group", "subject", "appliance",
            "asset", "state", "raised_at", "resolved_at", "resolved_reason", "dismissed_at",
            "dismissed_by", "dismiss_reason", "details", "links",
        ]


class AlertEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="email", read_only=True, allow_null=True,
                                         help_text="Who did it; null for the product itself.")

    class Meta:
        model = AlertEvent
        fields = ["uuid", "type", "at", "actor", "reason"]


class AlertDeliverySerializer(serializers.Serializer):
    """One delivery of one of the alert's events, as the alert's detail lists it."""

    id = serializers.IntegerField()
    event = serializers.UUIDField()
    channel = serializers.CharField()
    state = serializers.CharField(help_text="pending, sent or failed.")
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField()
    last_error = serializers.CharField()
    external_ref = serializers.CharField()


class AlertDetailSerializer(AlertSerializer):
    events = AlertEventSerializer(many=True, read_only=True)
    deliveries = serializers.SerializerMethodField()

    class Meta(AlertSerializer.Meta):
        fields = AlertSerializer.Meta.fields + ["events", "deliveries"]

    @extend_schema_field(AlertDeliverySerializer(many=True))
    def get_deliveries(self, alert) -> list[dict]:
        # Read through the reverse relation: alerts does not import notifications.
        rows = []
        for event in alert.events.all():
            for d in event.deliveries.all():
                rows.append({
                    "id": d.pk, "event": str(event.uuid), "channel": d.channel, "state": d.state,
                    "attempts": d.attempts, "next_attempt_at": d.next_attempt_at,
                    "last_error": d.last_error, "external_ref": d.external_ref,
                })
        return rows


class DismissSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class BulkDismissSerializer(DismissSerializer):
    all = serializers.BooleanField(required=False, default=False)
    organization = serializers.IntegerField(required=False, allow_null=True, default=None)
    group = serializers.CharField(required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if not attrs["all"] and attrs["organization"] is None and not attrs["group"]:
            raise serializers.ValidationError(
                {"all": ['Send {"all": true}, or an "organization" and/or a "group".']}
            )
        if attrs["all"] and (attrs["organization"] is not None or attrs["group"]):
            raise serializers.ValidationError({"all": ['"all" cannot be combined with a selection.']})
        return attrs


class AlertGroupSerializer(serializers.Serializer):
    key = serializers.CharField()
    organization = serializers.IntegerField(allow_null=True)
    kind = serializers.ChoiceField(choices=KIND_CHOICES)
    label = serializers.CharField()
    open_count = serializers.IntegerField()
    severity = serializers.ChoiceField(choices=Severity.choices, help_text="R20.1: the worst severity among its open alerts.")


class AlertSettingsSerializer(serializers.ModelSerializer):
    emails = serializers.ListField(child=serializers.EmailField(), required=False, max_length=100)

    class Meta:
        model = AlertSettings
        fields = ["categories", "purging_alerts", "realert_hours", "emails"]
        extra_kwargs = {"realert_hours": {"min_value": 1, "max_value": 8760}}

    def validate_categories(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("Send an object of category name → true/false.")
        unknown = sorted(set(value) - set(CATEGORIES))
        if unknown:
            raise serializers.ValidationError(f"Unknown categories: {', '.join(unknown)}.")
        if not all(isinstance(v, bool) for v in value.values()):
            raise serializers.ValidationError("Each category takes true or false.")
        merged = dict(self.instance.categories if self.instance else {})
        merged.update(value)
        return merged

    def validate_emails(self, value):
        # R13.2: unique case-insensitively.
        seen, unique = set(), []
        for address in value:
            if address.lower() in seen:
                raise serializers.ValidationError(f"{address} is listed twice.")
            seen.add(address.lower())
            unique.append(address)
        return unique


class EvaluationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Evaluation
        fields = ["id", "now", "started_at", "duration_ms", "raised", "resolved", "kept", "skipped"]
        read_only_fields = ["started_at", "duration_ms", "raised", "resolved", "kept", "skipped"]
        extra_kwargs = {"now": {"required": False}}

    def validate_now(self, value):
        problem = time_error(value)  # a replay outside the window would overflow the rules' arithmetic
        if problem:
            raise serializers.ValidationError(problem)
        return value


class PreviewItemSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=KIND_CHOICES)
    kind_label = serializers.CharField()
    organization = serializers.IntegerField(allow_null=True)
    organization_name = serializers.CharField()
    subject = serializers.CharField()
    title = serializers.CharField()
    alert = serializers.IntegerField(required=False, help_text="The open alert that would be resolved.")
    reason = serializers.CharField(required=False, help_text="Why it would be resolved.")


class PreviewSerializer(serializers.Serializer):
    """R15.5: what an evaluation at `now` would raise and resolve; nothing was written."""

    preview = serializers.SerializerMethodField()
    now = serializers.DateTimeField()
    raised = serializers.IntegerField(help_text="How many alerts would be raised.")
    resolved = serializers.IntegerField(help_text="How many open alerts would be resolved.")
    kept = serializers.IntegerField()
    would_raise = PreviewItemSerializer(many=True)
    would_resolve = PreviewItemSerializer(many=True)

    def get_preview(self, obj) -> bool:
        return True


class EvaluationResultSerializer(EvaluationSerializer):
    """`evaluations/?wait=1`: the finished evaluation in the shape it had before jobs, and its job."""

    evaluation = serializers.IntegerField(source="pk", read_only=True, help_text="The same as `id`.")
    job = serializers.SerializerMethodField()

    class Meta(EvaluationSerializer.Meta):
        fields = [*EvaluationSerializer.Meta.fields, "evaluation", "job"]

    @extend_schema_field(BackgroundJobSerializer)
    def get_job(self, run) -> dict:
        return BackgroundJobSerializer(self.context["job"], context=self.context).data
