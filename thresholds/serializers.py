"""Thresholds in the API (API.md): `thresholds/global/`, `thresholds/custom/`, and the
`custom_threshold` field of an organization."""

from rest_framework import serializers

from tenancy import scoping
from tenancy.fields import ScopedPrimaryKeyRelatedField
from tenancy.models import Organization
from tenancy.pages import Panel
from tenancy.serializers import OrganizationExtension
from thresholds import changes
from thresholds.effective import effective_threshold, effective_thresholds
from thresholds.models import CustomThreshold, GlobalThreshold, ThresholdAssignment

HOURS_MESSAGE = "Hours must be a whole number from 1 to 8760."  # R4.5


def hours_field(**kwargs):
    messages = {key: HOURS_MESSAGE for key in ("invalid", "min_value", "max_value", "max_string_length", "null")}
    messages["required"] = "This field is required: " + HOURS_MESSAGE[0].lower() + HOURS_MESSAGE[1:]
    return serializers.IntegerField(min_value=1, max_value=8760, error_messages=messages, **kwargs)


class ThresholdFieldsSerializer(serializers.ModelSerializer):
    backups_enabled = serializers.BooleanField(default=True)
    backups_hours = hours_field()
    hot_copy_enabled = serializers.BooleanField(default=True)
    hot_copy_hours = hours_field()
    azure_hours = hours_field(default=24)


class GlobalThresholdSerializer(ThresholdFieldsSerializer):
    configured = serializers.SerializerMethodField(help_text="False until the first PUT: no conditional alarms before (R4.1).")

    class Meta:
        model = GlobalThreshold
        fields = ["configured", *changes.FIELDS]

    def get_configured(self, threshold) -> bool:
        return threshold.pk is not None

    def save(self, **kwargs):
        self.instance = changes.save_global(self.context["account"], self.validated_data)
        return self.instance


class CustomThresholdSerializer(ThresholdFieldsSerializer):
    organizations = ScopedPrimaryKeyRelatedField(
        queryset=Organization.objects.all(), many=True, required=False,
        help_text="Ids of the organizations it applies to; one moved here leaves its former custom threshold.",
    )

    class Meta:
        model = CustomThreshold
        fields = ["id", "name", *changes.FIELDS, "organizations"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        visible = scoping.scope(self.context["request"].user, Organization.objects.all()).values_list("id", flat=True)
        assigned = ThresholdAssignment.objects.filter(threshold=instance, organization_id__in=visible)
        data["organizations"] = sorted(assigned.values_list("organization_id", flat=True))
        return data

    def validate_name(self, value):
        value = value.strip()
        if not value:
            raise serializers.ValidationError("A name is required.")
        clash = CustomThreshold.objects.filter(account=self.context["account"], name__iexact=value)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError(f"A custom threshold named '{value}' exists.")
        return value

    def save(self, **kwargs):
        values = dict(self.validated_data)
        organizations = values.pop("organizations", None)
        self.instance = changes.save_custom(self.context["account"], values, organizations, self.instance)
        return self.instance


class CustomThresholdExtension(OrganizationExtension):
    """`custom_threshold` on an organization: the id of its custom threshold, or null for global."""

    name = "custom_threshold"

    def field(self):
        return ScopedPrimaryKeyRelatedField(
            queryset=CustomThreshold.objects.all(), allow_null=True, required=False,
            help_text="Id of the organization's custom threshold; null: the global threshold applies.",
        )

    def read(self, organization):
        return self.read_many([organization])[organization.pk]

    def read_many(self, organizations):
        assigned = dict(
            ThresholdAssignment.objects.filter(organization__in=organizations).values_list("organization_id", "threshold_id")
        )
        return {organization.pk: assigned.get(organization.pk) for organization in organizations}

    def write(self, organization, value):
        changes.set_custom_threshold(organization, value)


class EffectiveThresholdSerializer(serializers.Serializer):
    source = serializers.CharField(help_text="Where the thresholds come from, for a person.")
    backups = serializers.CharField(help_text='e.g. "4 h", or "off".')
    hot_copy = serializers.CharField(help_text='e.g. "24 h", or "off".')
    azure = serializers.CharField()


class EffectiveThresholdExtension(OrganizationExtension):
    """`threshold` on an organization (read only): what applies and where it comes from,
    e.g. {"backups": "4 h — custom threshold 'Servers'", ...}; null without any threshold (R4.1)."""

    name = "threshold"

    def field(self):
        return EffectiveThresholdSerializer(
            read_only=True, allow_null=True,
            help_text="The effective thresholds and their origin; null when no threshold applies (R4.1).")

    def read(self, organization):
        return self._describe(effective_threshold(organization))

    def fact(self, member, organization):
        """On the organization page, first: the threshold in effect and where it comes from."""
        return Panel("thresholds/_organization_fact.html", {"threshold": effective_threshold(organization)}, order=0)

    def read_many(self, organizations):
        if not organizations:
            return {}
        thresholds = effective_thresholds(organizations[0].account_id)  # a page is one account's
        return {o.pk: self._describe(thresholds.for_organization(o.pk)) for o in organizations}

    @staticmethod
    def _describe(effective):
        if effective is None:
            return None
        return {
            "source": effective.source,
            "backups": effective.backups_label if effective.backups_enabled else "off",
            "hot_copy": effective.hot_copy_label if effective.hot_copy_enabled else "off",
            "azure": effective.azure_label,
        }

    def write(self, organization, value):
        raise NotImplementedError("read only")
