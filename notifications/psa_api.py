"""R19.2 in the API: the PSA's companies searched by name, and auto-mapping by name.
Superusers only, like the mapping itself (R1.3)."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations.psa.connection import psa_integration
from notifications import psa_companies
from notifications.psa_companies import PsaUnavailable
from tenancy import scoping
from tenancy.models import Organization

REFUSAL = "Only a superuser maps organizations to PSA companies."


class PsaCompanySerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The company's id in the PSA: the organization's `psa_company`.")
    name = serializers.CharField()


class PsaOfAccountSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The PSA integration.")
    kind = serializers.CharField()
    name = serializers.CharField()


class PsaCompanySearchSerializer(serializers.Serializer):
    psa = PsaOfAccountSerializer(allow_null=True, help_text="The account's PSA; null when it has none (no results).")
    results = PsaCompanySerializer(many=True)


class AutoMapSerializer(serializers.Serializer):
    mapped = serializers.ListField(child=serializers.DictField(child=serializers.CharField()),
                                   help_text="Organizations mapped now: {organization, company} names.")
    ambiguous = serializers.ListField(child=serializers.CharField(), help_text="Several companies match.")
    not_found = serializers.ListField(child=serializers.CharField(), help_text="No company of that name.")
    kept = serializers.IntegerField(help_text="Organizations already mapped, left alone.")
    stopped = serializers.CharField(help_text="Why it stopped before the end (the PSA stopped answering), else blank.")
    summary = serializers.ListField(child=serializers.CharField(), help_text="What happened, as sentences.")


def _integration(request):
    scoping.require(request.user, scoping.MANAGE, REFUSAL)
    return psa_integration(scoping.account_of(request.user))


def _unavailable(text):
    return Response({"detail": str(text)}, status=status.HTTP_502_BAD_GATEWAY)


class PsaCompaniesView(APIView):
    """The PSA's companies whose name holds `search` (without it, the first by name); cached
    for a few minutes."""

    read_action = scoping.MANAGE

    @extend_schema(
        parameters=[OpenApiParameter("search", str, description="Part of the company's name.")],
        responses={200: PsaCompanySearchSerializer, 502: OpenApiResponse(description="The PSA did not answer.")},
    )
    def get(self, request):
        integration = _integration(request)
        text = " ".join(request.query_params.get("search", "").split())
        if len(text) > 100:
            raise serializers.ValidationError({"search": ["At most 100 characters."]})
        if integration is None:
            return Response({"psa": None, "results": []})
        try:
            found = psa_companies.search(integration, text)
        except PsaUnavailable as exc:
            return _unavailable(exc)
        return Response({"psa": {"id": integration.pk, "kind": integration.kind, "name": integration.name},
                         "results": [{"id": c.id, "name": c.name} for c in found]})


class PsaAutoMapView(APIView):
    """Map every organization without a PSA company to the company of the same name."""

    @extend_schema(request=None, responses={200: AutoMapSerializer, 409: OpenApiResponse(description="No PSA."),
                                            502: OpenApiResponse(description="The PSA did not answer.")})
    def post(self, request):
        integration = _integration(request)
        if integration is None:
            return Response({"detail": "This account has no PSA integration."}, status=status.HTTP_409_CONFLICT)
        organizations = scoping.scope(request.user, Organization.objects.order_by("name", "pk"))
        try:
            report = psa_companies.auto_map(integration.account, organizations)
        except PsaUnavailable as exc:
            return _unavailable(exc)
        return Response({**report.as_dict(), "summary": report.sentences()})
