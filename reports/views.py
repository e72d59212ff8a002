"""The reports in the dashboard (R18.3): the list of organizations' monthly reports, one report
as a page, its PDF and CSV, and Settings › Reports (superusers write, everyone reads)."""

import re

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from reports import monthly
from reports.compliance import local_today
from reports.models import ReportSettings
from reports.params import BadParameter, parse_month
from reports.settings_io import ReportSettingsSerializer, check_logo
from tenancy.models import Organization
from tenancy.pages import MANAGE, member_page


def _month(request, member):
    default = monthly.previous_month(local_today(member.account, timezone.now()))
    try:
        return parse_month(request.GET.get("month"), default=default), ""
    except BadParameter as exc:
        return default, exc.message


@member_page
def index(request, member):
    month, error = _month(request, member)
    organizations = member.scope(Organization).order_by("name")
    return render(request, "reports/index.html", {"organizations": organizations, "month_value": f"{month:%Y-%m}",
                                                  "month": f"{month:%B %Y}", "error": error})


@member_page
def monthly_page(request, member, pk):
    organization = member.get(Organization, pk=pk)
    month, error = _month(request, member)
    context = monthly.context(organization, month)
    context["error"] = error
    return render(request, "reports/monthly.html", context, status=400 if error else 200)


@member_page
def monthly_pdf(request, member, pk):
    organization = member.get(Organization, pk=pk)
    month, _ = _month(request, member)
    response = HttpResponse(monthly.pdf(organization, month), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{monthly.file_name(organization, month, "pdf")}"'
    return response


@member_page
def monthly_csv(request, member, pk):
    organization = member.get(Organization, pk=pk)
    month, _ = _month(request, member)
    first, last = monthly.month_bounds(month)
    response = HttpResponse(monthly.csv_rows(organization, first, last), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{monthly.file_name(organization, month, "csv")}"'
    return response


def _addresses(text) -> list[str]:
    return [e for e in re.split(r"[\s,;]+", text or "") if e]


@member_page(write=MANAGE, refusal="Only a superuser changes report settings.")
def settings_page(request, member):
    current = ReportSettings.for_account(member.account)
    errors = {}
    if request.method == "POST":
        data = {
            "time_zone": request.POST.get("time_zone", "").strip(),
            "digest_enabled": "digest_enabled" in request.POST,
            "digest_hour": request.POST.get("digest_hour", "").strip(),
            "digest_recipients": _addresses(request.POST.get("digest_recipients")),
            "monthly_enabled": "monthly_enabled" in request.POST,
            "monthly_recipients": _addresses(request.POST.get("monthly_recipients")),
            "msp_name": request.POST.get("msp_name", "").strip(),
        }
        serializer = ReportSettingsSerializer(current, data=data)
        logo = request.FILES.get("logo")
        logo_data = None
        if logo is not None:
            try:
                logo_data = check_logo(logo)
            except ValidationError as exc:
                errors["logo"] = exc.messages
        if serializer.is_valid() and not errors:
            current = serializer.save()
            if logo_data:
                current.logo, current.logo_type = logo_data
                current.save(update_fields=["logo", "logo_type"])
            if "remove_logo" in request.POST:
                current.logo, current.logo_type = None, ""
                current.save(update_fields=["logo", "logo_type"])
            messages.success(request, "Report settings saved.")
            return redirect("reports:settings")
        errors.update({k: [str(m) for m in v] for k, v in serializer.errors.items()})
        shown = data
    else:
        shown = ReportSettingsSerializer(current).data
    context = {
        "shown": shown, "errors": errors, "can_edit": member.can(MANAGE), "has_logo": bool(current.logo),
        "logo_src": monthly.logo_src(current), "hours": range(24),
        "digest_text": "\n".join(shown["digest_recipients"]), "monthly_text": "\n".join(shown["monthly_recipients"]),
    }
    return render(request, "reports/settings.html", context, status=400 if errors else 200)
