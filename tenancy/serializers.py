from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator
from django.db import transaction
from rest_framework import serializers

from tenancy.models import Organization
from tenancy.pages import Panel


class OrganizationExtension:
    """What another room adds to an organization without tenancy importing that room, registered
    from its `ready()` with `extend_organizations`:

    - a field of the API (`field`, `read`, `read_many`, `write`): custom threshold, PSA company;
      `in_api = False` for an extension of the page only;
    - a fact under "Settings in effect" on the organization page (`fact`): by default the
      field's value under `label`, none without a label;
    - a section of the organization page (`panel`): its appliances, its recent alerts.
    """

    name = ""
    label = ""
    in_api = True

    def field(self) -> serializers.Field:
        raise NotImplementedError

    def read(self, organization):
        raise NotImplementedError

    def read_many(self, organizations) -> dict:
        """{organization id: value} for a page of organizations; override to read them in one query."""
        return {organization.pk: self.read(organization) for organization in organizations}

    def write(self, organization, value) -> None:
        raise NotImplementedError

    def fact(self, member, organization) -> Panel | None:
        """Its row (a `<dt>` and a `<dd>`) under "Settings in effect" on the organization page."""
        if not self.label:
            return None
        return Panel("tenancy/_organization_fact.html", {"label": self.label, "value": self.read(organization)})

    def panel(self, member, organization) -> Panel | None:
        """Its own section of the organization page, seen by `member` (a `tenancy.pages.Member`)."""
        return None


ORGANIZATION_EXTENSIONS: list[OrganizationExtension] = []


def extend_organizations(extension: OrganizationExtension) -> None:
    """Add `extension` (from a room's `ready()`); one of the same name is replaced, never doubled."""
    ORGANIZATION_EXTENSIONS[:] = [e for e in ORGANIZATION_EXTENSIONS if e.name != extension.name]
    ORGANIZATION_EXTENSIONS.append(extension)


def api_extensions() -> list[OrganizationExtension]:
    return [e for e in ORGANIZATION_EXTENSIONS if e.in_api]


class OrganizationListSerializer(serializers.ListSerializer):
    """A page of organizations reads each extension once for the whole page."""

    def to_representation(self, data):
        organizations = list(data.all() if hasattr(data, "all") else data)
        self.child.extension_values = {e.name: e.read_many(organizations) for e in api_extensions()}
        return super().to_representation(organizations)


class OpenAlertsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_kind = serializers.DictField(child=serializers.IntegerField(), help_text="Open alerts per alert kind.")


class OrganizationSerializer(serializers.ModelSerializer):
    extension_values: dict | None = None
    # One type in the document (a blank EmailField would be documented as "empty or an email").
    report_contact = serializers.CharField(
        max_length=254, allow_blank=True, required=False,
        help_text="The customer's contact who also receives the monthly report (R18.3); blank: none.",
    )

    class Meta:
        model = Organization
        fields = ["id", "name", "created_at", "report_contact"]
        list_serializer_class = OrganizationListSerializer

    def get_fields(self):
        fields = super().get_fields()
        for extension in api_extensions():
            fields[extension.name] = extension.field()
        return fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        for extension in api_extensions():
            page = (self.extension_values or {}).get(extension.name)
            data[extension.name] = page[instance.pk] if page and instance.pk in page else extension.read(instance)
        counts = self.context.get("open_alerts")
        if counts is not None:  # the organizations API passes them, computed for the page at once
            by_kind = counts.get(instance.pk, {})
            data["open_alerts"] = {"total": sum(by_kind.values()), "by_kind": by_kind}
        return data

    def validate_report_contact(self, value):
        if value:
            try:
                EmailValidator()(value)
            except DjangoValidationError:
                raise serializers.ValidationError("Must be an email address, e.g. it@customer.example.") from None
        return value

    def validate_name(self, value):
        value = value.strip()
        if not value:
            raise serializers.ValidationError("A name is required.")
        clash = Organization.objects.filter(account=self.context["account"], name__iexact=value)
        if self.instance:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError("An organization with this name exists.")
        return value

    def _save_extensions(self, organization, values):
        for extension in api_extensions():
            if extension.name in values:
                extension.write(organization, values[extension.name])

    @transaction.atomic
    def create(self, validated_data):
        extra = {e.name: validated_data.pop(e.name) for e in api_extensions() if e.name in validated_data}
        organization = super().create(validated_data)
        self._save_extensions(organization, extra)
        return organization

    @transaction.atomic
    def update(self, instance, validated_data):
        extra = {e.name: validated_data.pop(e.name) for e in api_extensions() if e.name in validated_data}
        organization = super().update(instance, validated_data)
        self._save_extensions(organization, extra)
        return organization


class OrganizationWithCountsSerializer(OrganizationSerializer):
    """How the organizations API reads one (list and retrieve): with its open-alert counts."""

    open_alerts = OpenAlertsSerializer(read_only=True)

    class Meta(OrganizationSerializer.Meta):
        fields = [*OrganizationSerializer.Meta.fields, "open_alerts"]
