from django.db import transaction
from django.utils import timezone
from rest_framework import serializers

from inventory import due, schedules
from inventory.models import Appliance, Asset, BackupSchedule
from tenancy.fields import ScopedPrimaryKeyRelatedField
from tenancy.models import Organization
from tenancy.validation import time_error


class ApplianceSerializer(serializers.ModelSerializer):
    organization = ScopedPrimaryKeyRelatedField(queryset=Organization.objects.all())

    class Meta:
        model = Appliance
        fields = [
            "id", "organization", "name", "version", "timezone", "status", "last_contact_at",
            "logical_capacity_bytes", "logical_free_bytes", "purge_eligible_backups", "external_id", "retired_at",
            "last_sync_warning",
        ]
        read_only_fields = ["retired_at", "last_sync_warning"]

    def validate_last_contact_at(self, value):
        problem = value and time_error(value)  # a contact beyond year 9999 in UTC stops evaluation
        if problem:
            raise serializers.ValidationError(problem)
        return value

    def validate_timezone(self, value):
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise serializers.ValidationError(f"Unknown time zone {value!r}; use an IANA name such as Europe/Paris.") from exc
        return value

    def validate(self, attrs):
        account = self.context["account"]
        external_id = attrs.get("external_id", getattr(self.instance, "external_id", None))
        clash = Appliance.objects.filter(account=account, external_id=external_id)
        if self.instance:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError({"external_id": ["An appliance with this external id exists."]})
        return attrs


class ScheduleSerializer(serializers.Serializer):
    """One backup schedule (R4.7): at most every 15 minutes, first start at most 10 years back."""

    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    rrule = serializers.CharField(max_length=500)
    dtstart = serializers.DateTimeField(default_timezone=None)

    def validate_dtstart(self, value):
        # A schedule is local time of the appliance: keep it naive.
        return value.replace(tzinfo=None, microsecond=0)

    def validate(self, attrs):
        try:
            rrule = schedules.check(attrs["rrule"], attrs["dtstart"], timezone.now())
        except schedules.ScheduleError as exc:
            raise serializers.ValidationError({exc.field: [str(exc)]}) from exc
        return {**attrs, "rrule": rrule, "dtstart": attrs["dtstart"].isoformat()}


MAX_SCHEDULES = 20  # per asset: a job order each; the rules expand every one (R4.7)


class AssetSerializer(serializers.ModelSerializer):
    appliance = ScopedPrimaryKeyRelatedField(queryset=Appliance.objects.all())
    backup_schedules = ScheduleSerializer(many=True, required=False, max_length=MAX_SCHEDULES)
    # Kept for existing scripts: writing it replaces the list with that one schedule
    # (null: none); reading it answers the first schedule's rrule and dtstart.
    backup_schedule = ScheduleSerializer(allow_null=True, required=False)

    class Meta:
        model = Asset
        fields = [
            "id", "appliance", "organization", "name", "type", "external_id", "backup_schedules",
            "backup_schedule", "hot_copy",
        ]
        read_only_fields = ["organization"]
        validators = []  # uniqueness is checked in validate(), naming external_id

    def to_representation(self, instance):
        data = super().to_representation(instance)
        each = list(instance.backup_schedules.all())
        data["backup_schedules"] = [{"name": s.name, "rrule": s.rrule, "dtstart": s.dtstart} for s in each]
        data["backup_schedule"] = {"rrule": each[0].rrule, "dtstart": each[0].dtstart} if each else None
        return data

    def validate(self, attrs):
        if "backup_schedules" in attrs and "backup_schedule" in attrs:
            raise serializers.ValidationError(
                {"backup_schedule": ["Give backup_schedules (the list) or backup_schedule (one), not both."]})
        appliance = attrs.get("appliance", getattr(self.instance, "appliance", None))
        external_id = attrs.get("external_id", getattr(self.instance, "external_id", None))
        clash = Asset.objects.filter(appliance=appliance, external_id=external_id)
        if self.instance:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError({"external_id": ["This appliance already has an asset with this external id."]})
        return attrs

    @transaction.atomic
    def create(self, validated_data):
        wanted = _wanted_schedules(validated_data)
        asset = Asset(**validated_data)
        asset.save()
        _save_schedules(asset, wanted)
        return asset

    @transaction.atomic
    def update(self, instance, validated_data):
        wanted = _wanted_schedules(validated_data)
        for key, value in validated_data.items():
            setattr(instance, key, value)
        instance.save()
        _save_schedules(instance, wanted)
        return instance


def _wanted_schedules(validated_data) -> list[dict] | None:
    """The schedules a write asks for (None: leave them as they are)."""
    if "backup_schedules" in validated_data:
        validated_data.pop("backup_schedule", None)
        return validated_data.pop("backup_schedules")
    if "backup_schedule" in validated_data:
        one = validated_data.pop("backup_schedule")
        return [one] if one else []
    return None


def _save_schedules(asset, wanted):
    """Replace the asset's schedules with `wanted` (R4.7)."""
    if wanted is None:
        return
    BackupSchedule.objects.filter(asset=asset).delete()
    due.assets_changed([asset.pk])  # evaluation by due time
    BackupSchedule.objects.bulk_create(
        BackupSchedule(account_id=asset.account_id, asset=asset, **schedule) for schedule in wanted
    )
    # The answer must show the schedules just written, not a list loaded before.
    getattr(asset, "_prefetched_objects_cache", {}).pop("backup_schedules", None)
