"""The API's maintenance window (R16.1): a one-off start and end, or an RRULE and a duration."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inventory.models import Appliance, Asset
from maintenance import occurrences
from maintenance.models import MaintenanceWindow
from tenancy.fields import ScopedPrimaryKeyRelatedField
from tenancy.models import Organization

PREVIEW = 5
SCOPE_FIELDS = {"organizations": "organizations", "appliances": "appliances", "assets": "assets"}


class LocalDateTimeField(serializers.DateTimeField):
    """A moment; one given without an offset is a wall-clock time in the window's zone
    (made aware in `validate`, once the zone is known)."""

    def enforce_timezone(self, value):
        return value if timezone.is_naive(value) else super().enforce_timezone(value)


class OccurrenceSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class MaintenanceWindowSerializer(serializers.ModelSerializer):
    organizations = ScopedPrimaryKeyRelatedField(queryset=Organization.objects.all(), many=True, required=False)
    appliances = ScopedPrimaryKeyRelatedField(queryset=Appliance.objects.all(), many=True, required=False)
    assets = ScopedPrimaryKeyRelatedField(queryset=Asset.objects.all(), many=True, required=False)
    starts_at = LocalDateTimeField(help_text="The start (one-off) or the first occurrence's start (recurring); "
                                             "without an offset, a wall-clock time in `timezone`.")
    ends_at = LocalDateTimeField(required=False, allow_null=True,
                                 help_text="The end of a one-off window; without an offset, in `timezone`.")
    next_occurrences = serializers.SerializerMethodField(help_text="The next five occurrences (the current one first).")
    in_maintenance_now = serializers.SerializerMethodField()
    cleared_total = serializers.IntegerField(read_only=True, help_text="R16.2: conditions that cleared inside.")

    class Meta:
        model = MaintenanceWindow
        fields = [
            "id", "name", "scope", "organizations", "appliances", "assets", "timezone", "starts_at", "ends_at",
            "rrule", "duration_minutes", "next_occurrences", "in_maintenance_now", "cleared_counts",
            "cleared_total", "created_at",
        ]
        read_only_fields = ["cleared_counts", "created_at"]
        extra_kwargs = {"rrule": {"help_text": "RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=SU (without DTSTART)."},
                        "duration_minutes": {"min_value": 1}}

    @extend_schema_field(OccurrenceSerializer(many=True))
    def get_next_occurrences(self, window) -> list[dict]:
        try:
            listed = occurrences.upcoming(window, self.context.get("now") or timezone.now(), PREVIEW)
        except occurrences.WindowError:
            return []
        return [{"start": o.start, "end": o.end} for o in listed]

    def get_in_maintenance_now(self, window) -> bool:
        try:
            return occurrences.current(window, self.context.get("now") or timezone.now()) is not None
        except occurrences.WindowError:
            return False

    def validate(self, attrs):
        merged = {name: getattr(self.instance, name) for name in
                  ("scope", "timezone", "starts_at", "ends_at", "rrule", "duration_minutes")} if self.instance else {}
        merged.update(attrs)
        merged.setdefault("timezone", "UTC")
        merged.setdefault("scope", MaintenanceWindow.Scope.ACCOUNT)
        try:
            tz = occurrences.zone(merged["timezone"])
        except occurrences.WindowError as exc:
            raise serializers.ValidationError({exc.field: [str(exc)]}) from None
        for name in ("starts_at", "ends_at"):
            value = merged.get(name)
            if value is not None and timezone.is_naive(value):
                merged[name] = attrs[name] = occurrences.utc(value, tz)
        merged["rrule"] = attrs.get("rrule", merged.get("rrule")) or ""
        try:
            occurrences.check(merged["timezone"], merged.get("starts_at"), merged.get("ends_at"), merged["rrule"],
                              merged.get("duration_minutes"))
        except occurrences.WindowError as exc:
            raise serializers.ValidationError({exc.field: [str(exc)]}) from None
        scope = merged["scope"]
        if scope in SCOPE_FIELDS:
            chosen = attrs.get(scope)
            if chosen is None and self.instance is not None:
                chosen = list(getattr(self.instance, scope).all())
            if not chosen:
                raise serializers.ValidationError({scope: [f"Choose at least one of the {scope} this window covers."]})
        return attrs

    def _members(self, window, validated):
        for name in SCOPE_FIELDS:
            if name in validated:
                getattr(window, name).set(validated[name])
        if window.scope != MaintenanceWindow.Scope.ACCOUNT:  # only the scope's own list is kept
            for name in SCOPE_FIELDS:
                if name != window.scope:
                    getattr(window, name).clear()
        else:
            for name in SCOPE_FIELDS:
                getattr(window, name).clear()

    def create(self, validated):
        members = {name: validated.pop(name) for name in list(SCOPE_FIELDS) if name in validated}
        window = MaintenanceWindow.objects.create(account=self.context["account"], **validated)
        self._members(window, members)
        return window

    def update(self, window, validated):
        members = {name: validated.pop(name) for name in list(SCOPE_FIELDS) if name in validated}
        for name, value in validated.items():
            setattr(window, name, value)
        if window.rrule:
            window.ends_at = None
        else:
            window.duration_minutes = None
        window.save()
        self._members(window, members)
        return window
