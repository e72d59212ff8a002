"""The `psa_company` field on organizations (R13.3), added without tenancy importing us."""

from rest_framework import serializers

from notifications.models import PsaCompanyMapping
from tenancy.serializers import OrganizationExtension


class PsaCompanyExtension(OrganizationExtension):
    name = "psa_company"
    label = "PSA company"

    def field(self):
        return serializers.CharField(
            max_length=100, allow_blank=True, required=False, trim_whitespace=True,
            help_text="The organization's company id in the PSA; blank uses the default company.",
        )

    def read(self, organization):
        mapping = getattr(organization, "psa_company_mapping", None)
        try:
            return mapping.company if mapping else ""
        except PsaCompanyMapping.DoesNotExist:
            return ""

    def read_many(self, organizations):
        companies = dict(
            PsaCompanyMapping.objects.filter(organization__in=organizations).values_list("organization_id", "company")
        )
        return {organization.pk: companies.get(organization.pk, "") for organization in organizations}

    def write(self, organization, value):
        if not value:
            PsaCompanyMapping.objects.filter(organization=organization).delete()
            return
        PsaCompanyMapping.objects.update_or_create(
            organization=organization, defaults={"account_id": organization.account_id, "company": value}
        )
