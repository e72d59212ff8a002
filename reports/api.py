"""The reports' API (R18): compliance rows as JSON or CSV, the monthly report as PDF, and the
report settings with the logo. Scoped like every view: another account's organization is 404."""

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import renderers, status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from reports import monthly
from reports.compliance import local_today
from reports.models import OrganizationDay, ReportSettings, subject_days
from reports.params import BadParameter, day_range, organization_of, parse_month
from reports.settings_io import ReportSettingsSerializer, check_logo
from tenancy import scoping
from tenancy.api_errors import bad_request
from tenancy.models import Organization


def _organizations(request):
    return scoping.scope(request.user, Organization.objects.all())


class ComplianceView(APIView):
    """R18.1: the daily compliance rows of the account's organizations (or one), and of one
    organization's assets and SaaS sources, `from`..`to` (days in the account's zone; by default
    the 30 days before today). `?format=csv` answers the same rows as CSV."""

    renderer_classes = [renderers.JSONRenderer]

    def perform_content_negotiation(self, request, force=False):
        """JSON, or CSV with `?format=csv` (answered directly); refusals always in JSON."""
        renderer = renderers.JSONRenderer()
        return renderer, renderer.media_type

    @extend_schema(
        parameters=[
            OpenApiParameter("organization", int, description="Only this organization, with its subjects' states."),
            OpenApiParameter("from", OpenApiTypes.DATE, description="First day (YYYY-MM-DD)."),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Last day (YYYY-MM-DD)."),
            OpenApiParameter("format", str, enum=["json", "csv"], description="csv: the same rows as CSV."),
        ],
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="Days per organization (and subject).")},
    )
    def get(self, request):
        account = scoping.account_of(request.user)
        try:
            first, last = day_range(request.query_params.get("from"), request.query_params.get("to"),
                                    local_today(account, timezone.now()))
            organization = organization_of(_organizations(request), request.query_params.get("organization"))
        except BadParameter as exc:
            return bad_request(exc.field, exc.message)
        if request.query_params.get("organization") and organization is None:
            raise NotFound("This organization does not exist, or it is not one you may see.")
        organizations = [organization] if organization else list(_organizations(request).order_by("name"))
        if request.query_params.get("format") == "csv":
            return self._csv(organizations, first, last)
        days = OrganizationDay.objects.filter(organization__in=organizations, day__gte=first, day__lte=last)
        by_org = {}
        for row in days.order_by("day"):
            by_org.setdefault(row.organization_id, []).append(
                {"day": row.day, "protected": row.protected, "compliant": row.compliant, "ratio": row.ratio})
        data = {"from": first, "to": last, "organizations": [
            {"id": o.pk, "name": o.name, "days": by_org.get(o.pk, [])} for o in organizations]}
        if organization is not None:
            data["subjects"] = _subjects(organization, first, last)
        return Response(data)

    def _csv(self, organizations, first, last):
        text = "".join(
            monthly.csv_rows(o, first, last).split("\r\n", 1)[1] if n else monthly.csv_rows(o, first, last)
            for n, o in enumerate(organizations)
        )
        response = HttpResponse(text, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="compliance-{first}-{last}.csv"'
        return response


def _subjects(organization, first, last):
    found = {}
    for row in subject_days(organization, first, last):
        entry = found.setdefault((row.kind, row.id), {"kind": row.kind, "id": row.id, "name": row.name, "days": []})
        entry["days"].append({"day": row.day, "state": row.state})
    return list(found.values())


class MonthlyReportView(APIView):
    """R18.3: one organization's monthly report as a PDF (the dashboard's page, printed);
    `?month=YYYY-MM`, by default the month before this one (the account's)."""

    renderer_classes = [renderers.JSONRenderer]

    def perform_content_negotiation(self, request, force=False):
        """The report is answered as a PDF whatever is asked; refusals (401, 403, 404, 400) in
        the API's JSON shape, even to a client that accepts only PDF."""
        renderer = renderers.JSONRenderer()
        return renderer, renderer.media_type

    @extend_schema(
        parameters=[OpenApiParameter("month", str, description="The month, YYYY-MM (default: last month).")],
        responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The report.")},
    )
    def get(self, request, id):
        organization = _organizations(request).filter(pk=id).first()
        if organization is None:
            raise NotFound("This organization does not exist, or it is not one you may see.")
        default = monthly.previous_month(local_today(organization.account, timezone.now()))
        try:
            month = parse_month(request.query_params.get("month"), default=default)
        except BadParameter as exc:
            return bad_request(exc.field, exc.message)
        response = HttpResponse(monthly.pdf(organization, month), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{monthly.file_name(organization, month, "pdf")}"'
        return response


class ReportSettingsView(APIView):
    """Settings > Reports: the account's time zone, the daily digest, the monthly report, the branding."""

    serializer_class = ReportSettingsSerializer

    def _settings(self, request):
        return ReportSettings.for_account(scoping.account_of(request.user))

    @extend_schema(responses=ReportSettingsSerializer)
    def get(self, request):
        return Response(ReportSettingsSerializer(self._settings(request)).data)

    @extend_schema(request=ReportSettingsSerializer, responses=ReportSettingsSerializer)
    def patch(self, request):
        serializer = ReportSettingsSerializer(self._settings(request), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        return Response(ReportSettingsSerializer(serializer.save()).data)


class ReportLogoView(APIView):
    """The logo on the monthly report: a PNG, JPEG or GIF of at most 512 KB (`file`)."""

    parser_classes = [MultiPartParser]

    @extend_schema(request={"multipart/form-data": {"type": "object", "properties": {
        "file": {"type": "string", "format": "binary"}}}}, responses=ReportSettingsSerializer)
    def put(self, request):
        from django.core.exceptions import ValidationError

        try:
            data, kind = check_logo(request.FILES.get("file"))
        except ValidationError as exc:
            return bad_request("file", exc.messages[0])
        row = ReportSettings.for_account(scoping.account_of(request.user))
        ReportSettings.objects.filter(pk=row.pk).update(logo=data, logo_type=kind)
        row.refresh_from_db()
        return Response(ReportSettingsSerializer(row).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        row = ReportSettings.for_account(scoping.account_of(request.user))
        ReportSettings.objects.filter(pk=row.pk).update(logo=None, logo_type="")
        return Response(status=status.HTTP_204_NO_CONTENT)
