"""The `psa_company` field on organizations (R13.3, R19.2), added without tenancy importing us:
the API field, the fact and the company picker on the organization page."""

from rest_framework import serializers

from integrations.psa.connection import psa_integration
from notifications import psa_companies
from notifications.models import PsaCompanyMapping
from tenancy import scoping
from tenancy.pages import MANAGE, Panel
from tenancy.serializers import OrganizationExtension


class PsaCompanyField(serializers.CharField):
    """A company id, for scripts (the dashboard picks by name, R19.2): checked against the
    account's PSA when it answers; an id it does not have is refused, naming the field."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not value:
            return value
        user = getattr(self.context.get("request"), "user", None)
        integration = psa_integration(scoping.account_of(user)) if user is not None else None
        if integration is None:
            return value
        if not value.isdigit():
            raise serializers.ValidationError("A PSA company id is a number: the `id` of GET /api/v1/psa/companies/.")
        try:
            name = psa_companies.company_name(integration, value)
        except psa_companies.PsaUnavailable:
            return value  # the PSA cannot say now: kept, and the daily check flags it if it is wrong
        if name is None:
            raise serializers.ValidationError(f"The PSA has no company with id {value}.")
        return value


class PsaCompanyExtension(OrganizationExtension):
    name = "psa_company"
    label = "PSA company"

    def field(self):
        return PsaCompanyField(
            max_length=100, allow_blank=True, required=False, trim_whitespace=True,
            help_text="The organization's company id in the PSA (see GET /api/v1/psa/companies/?search=); "
                      "blank uses the default company. Checked against the PSA when it answers.",
        )

    def read(self, organization):
        mapping = _mapping(organization)
        return mapping.company if mapping else ""

    def read_many(self, organizations):
        companies = dict(
            PsaCompanyMapping.objects.filter(organization__in=organizations).values_list("organization_id", "company")
        )
        return {organization.pk: companies.get(organization.pk, "") for organization in organizations}

    def write(self, organization, value):
        name = ""
        integration = psa_integration(organization.account) if value else None
        if integration is not None:
            try:
                name = psa_companies.company_name(integration, value) or ""
            except psa_companies.PsaUnavailable:
                pass
        current = _mapping(organization)
        if current is not None and current.company == value:
            return
        psa_companies.set_company(organization, value, name)

    def fact(self, member, organization):
        return Panel("notifications/_psa_company_fact.html", {"label": self.label, "mapping": _mapping(organization)})

    def panel(self, member, organization):
        """R19.2: the picker, for those who may map (superusers)."""
        if not member.can(MANAGE) or psa_integration(organization.account) is None:
            return None
        return Panel("notifications/_organization_psa_company.html",
                     {"organization": organization, "mapping": _mapping(organization)}, order=40)


class PsaCompanyMissingExtension(OrganizationExtension):
    """R19.2: read-only, when the daily check found the mapped company gone from the PSA (else null)."""

    name = "psa_company_missing_since"

    def field(self):
        return serializers.DateTimeField(
            read_only=True, allow_null=True,
            help_text="When the PSA was found no longer to have the organization's company; null while it has it.",
        )

    def read(self, organization):
        mapping = _mapping(organization)
        return serializers.DateTimeField().to_representation(mapping.missing_since) if mapping and mapping.missing_since else None

    def read_many(self, organizations):
        missing = dict(PsaCompanyMapping.objects.filter(organization__in=organizations, missing_since__isnull=False)
                       .values_list("organization_id", "missing_since"))
        as_text = serializers.DateTimeField().to_representation
        return {o.pk: as_text(missing[o.pk]) if o.pk in missing else None for o in organizations}

    def write(self, organization, value):
        """Read-only: never written."""


def _mapping(organization) -> PsaCompanyMapping | None:
    try:
        return organization.psa_company_mapping
    except PsaCompanyMapping.DoesNotExist:
        return None
