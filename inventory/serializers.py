from dateutil.rrule import rrulestr
from django.db import transaction
from rest_framework import serializers

from inventory.models import Appliance, Asset, BackupSchedule
from tenancy.models import Organization
from tenancy.validation import time_error
from uniview.api import ScopedPrimaryKeyRelatedField


class ApplianceSerializer(serializers.ModelSerializer):
    organization = ScopedPrimaryKeyRelatedField(queryset=Organization.objects.all())

    class Meta:
        model = Appliance
        fields = [
            "id", "organization", "name", "version", "timezone", "status", "last_contact_at",
            "logical_capacity_bytes", "logical_free_bytes", "purge_eligible_backups", "external_id",
        ]

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
    rrule = serializers.CharField(max_length=500)
    dtstart = serializers.DateTimeField(default_timezone=None)

    def validate_dtstart(self, value):
        # A schedule is local time of the appliance: keep it naive.
        return value.replace(tzinfo=None, microsecond=0).isoformat()

    def validate_rrule(self, value):
        text = value.removeprefix("RRULE:")
        try:
            rrulestr(text, ignoretz=True)
        except (ValueError, TypeError) as exc:
            raise serializers.ValidationError(f"Not an RFC 5545 recurrence: {exc}") from exc
        return text


class AssetSerializer(serializers.ModelSerializer):
    appliance = ScopedPrimaryKeyRelatedField(queryset=Appliance.objects.all())
    backup_schedule = ScheduleSerializer(allow_null=True, required=False)

    class Meta:
        model = Asset
        fields = ["id", "appliance", "organization", "name", "type", "external_id", "backup_schedule", "hot_copy"]
        read_only_fields = ["organization"]
        validators = []  # uniqueness is checked in validate(), naming external_id

    def to_representation(self, instance):
        data = super().to_representation(instance)
        schedule = getattr(instance, "backup_schedule", None)  # a missing one raises an AttributeError subclass
        data["backup_schedule"] = (
            {"rrule": schedule.rrule, "dtstart": schedule.dtstart} if schedule else None
        )
        return data

    def validate(self, attrs):
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
        schedule = validated_data.pop("backup_schedule", None)
        asset = Asset(**validated_data)
        asset.save()
        _save_schedule(asset, schedule, present=True)
        return asset

    @transaction.atomic
    def update(self, instance, validated_data):
        present = "backup_schedule" in validated_data
        schedule = validated_data.pop("backup_schedule", None)
        for key, value in validated_data.items():
            setattr(instance, key, value)
        instance.save()
        _save_schedule(instance, schedule, present)
        return instance



def _save_schedule(asset, schedule, present):
    if not present:
        return
    if schedule is None:
        BackupSchedule.objects.filter(asset=asset).delete()
        asset.backup_schedule = None  # the answer must not show the schedule just removed
        return
    # Kept on the asset so the answer shows the new schedule, not the one loaded with it.
    asset.backup_schedule, _ = BackupSchedule.objects.update_or_create(
        asset=asset, defaults={"account_id": asset.account_id, **schedule}
    )
