"""The monthly report of one organization (R18.3): its compliance trend, the day-by-day grid of
its assets and SaaS sources, its failures and their causes, and the time its alerts took to
close — as a dashboard page, a PDF made from the same HTML (WeasyPrint), and a CSV of the rows.

Beat sends it on the first of the month, in the account's zone, for the month before: to the
account's report list and the organization's customer contact, through the reports' outbox
(key `monthly:<organization>:<YYYY-MM>`, so once)."""

import base64
import csv
import io
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Max
from django.template.loader import render_to_string

from alerts.models import Alert
from inventory.models import Backup, SaasDailyStatus
from reports import outbox
from reports.figures import ratio_of
from reports.models import DayState, OrganizationDay, ReportSettings, subject_days
from reports.svg import trend
from reports.text import day_text, month_text, percent, short_day
from tenancy.models import Organization

FAILED = ("failed", "cancelled")
STYLESHEET = settings.BASE_DIR / "static" / "reports" / "monthly.css"


def month_bounds(month: date) -> tuple[date, date]:
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def previous_month(today: date) -> date:
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def duration_text(delta: timedelta | None) -> str:
    """"2 h 15 min", "3 days 4 h", or "—"."""
    if delta is None:
        return "—"
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} day{'s' if days != 1 else ''} {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def _grid(organization, first, last, days):
    subjects = defaultdict(dict)
    for row in subject_days(organization, first, last):
        subjects[(row.kind != "asset", row.name, row.id)][row.day] = row.state
    labels = dict(DayState.choices)
    return [
        {"name": name, "kind": "SaaS source" if saas else "Asset",
         "cells": [(day, states.get(day, ""), labels.get(states.get(day, ""), "")) for day in days]}
        for (saas, name, _), states in sorted(subjects.items())
    ]


def _failures(organization, start, end):
    backups = (Backup.objects.filter(asset__organization=organization, status__in=FAILED, started_at__gte=start,
                                     started_at__lt=end)
               .values("asset__name", "error").annotate(count=Count("id"), last=Max("started_at"))
               .order_by("-count", "asset__name"))
    found = [{"subject": row["asset__name"], "cause": row["error"] or "No error given by the appliance",
              "count": row["count"], "last": row["last"]} for row in backups]
    statuses = (SaasDailyStatus.objects.filter(source__organization=organization, status="Failed",
                                               date__gte=start.date(), date__lt=end.date())
                .values("source__name").annotate(count=Count("id"), last=Max("date")))
    found += [{"subject": row["source__name"], "cause": "The SaaS backup failed (Spanning's daily status)",
               "count": row["count"], "last": row["last"]} for row in statuses]
    for row in found:
        last = row["last"]
        row["last"] = day_text(last.date() if isinstance(last, datetime) else last)
    return found


def _alerts(organization, start, end):
    alerts = list(Alert.objects.filter(organization=organization, raised_at__gte=start, raised_at__lt=end)
                  .order_by("raised_at"))
    closed = [(a.resolved_at or a.dismissed_at) - a.raised_at for a in alerts if (a.resolved_at or a.dismissed_at)]
    mean = sum(closed, timedelta()) / len(closed) if closed else None
    listed = [{
        "ref": a.ref, "title": a.title, "raised": day_text(a.raised_at.date()),
        "closed": ("resolved" if a.resolved_at else "dismissed" if a.dismissed_at else "still open"),
        "took": duration_text((a.resolved_at or a.dismissed_at) - a.raised_at) if (a.resolved_at or a.dismissed_at)
        else "—",
    } for a in alerts]
    return {"list": listed, "count": len(alerts), "closed": len(closed), "mean_to_resolve": duration_text(mean)}


def logo_src(report_settings) -> str:
    if not report_settings.logo:
        return ""
    data = base64.b64encode(bytes(report_settings.logo)).decode()
    return f"data:{report_settings.logo_type};base64,{data}"


def context(organization, month: date) -> dict:
    report_settings = ReportSettings.for_account(organization.account)
    zone = ZoneInfo(report_settings.time_zone)
    first, last = month_bounds(month)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    start = datetime.combine(first, time.min, zone)
    end = datetime.combine(last + timedelta(days=1), time.min, zone)
    rows = OrganizationDay.objects.filter(organization=organization, day__gte=first, day__lte=last)
    by_day = {row.day: row for row in rows}
    return {
        "organization": organization, "brand": report_settings.brand, "logo_src": logo_src(report_settings),
        "month": month_text(first), "month_value": f"{first:%Y-%m}", "first": day_text(first),
        "last": day_text(last),
        "average": percent(ratio_of(rows)),
        "days": [{"day": day_text(d), "short": short_day(d), "ratio": percent(by_day[d].ratio) if d in by_day else "—",
                  "protected": by_day[d].protected if d in by_day else "—",
                  "compliant": by_day[d].compliant if d in by_day else "—"} for d in days],
        "trend": trend([(f"{d.day} {d:%b}", by_day[d].ratio if d in by_day else None) for d in days],
                       f"Compliance of {organization.name}, {month_text(first)}"),
        "day_numbers": [d.day for d in days],
        "grid": _grid(organization, first, last, days),
        "failures": _failures(organization, start, end),
        "alerts": _alerts(organization, start, end),
        "zone": report_settings.time_zone,
    }


def html(organization, month: date) -> str:
    return render_to_string("reports/monthly_pdf.html", context(organization, month))


def pdf(organization, month: date) -> bytes:
    from weasyprint import CSS, HTML

    return HTML(string=html(organization, month), base_url=str(settings.BASE_DIR)).write_pdf(
        stylesheets=[CSS(filename=str(STYLESHEET))]
    )


def csv_rows(organization, first: date, last: date) -> str:
    """The organization's daily rows and its subjects' states, one line a subject and day."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["day", "organization", "subject", "subject kind", "state", "protected", "compliant",
                     "compliance %"])
    days = {row.day: row for row in OrganizationDay.objects.filter(organization=organization, day__gte=first,
                                                                   day__lte=last)}
    for day, row in sorted(days.items()):
        writer.writerow([day.isoformat(), organization.name, "", "organization", "", row.protected, row.compliant,
                         "" if row.ratio is None else f"{row.ratio * 100:.1f}"])
    for row in sorted(subject_days(organization, first, last), key=lambda row: row.day):  # stable: by kind, name
        writer.writerow([row.day.isoformat(), organization.name, row.name,
                         "asset" if row.kind == "asset" else "SaaS source", row.state, "", "", ""])
    return out.getvalue()


def file_name(organization, month: date, extension: str) -> str:
    safe = "".join(c if c.isalnum() else "-" for c in organization.name).strip("-") or "organization"
    return f"monthly-report-{safe}-{month:%Y-%m}.{extension}"


def due_reports(now) -> list[int]:
    """On the first of the month (the account's), each organization's report of the month before,
    once, to the account's list and the organization's contact; answers the new deliveries' ids."""
    ids = []
    for report_settings in ReportSettings.objects.filter(monthly_enabled=True).select_related("account"):
        today = now.astimezone(ZoneInfo(report_settings.time_zone)).date()
        if today.day != 1:
            continue
        month = previous_month(today)
        for organization in Organization.objects.filter(account=report_settings.account).order_by("pk"):
            recipients = [*report_settings.monthly_recipients]
            if organization.report_contact and organization.report_contact not in recipients:
                recipients.append(organization.report_contact)
            key = f"monthly:{organization.pk}:{month:%Y-%m}"
            if not recipients or outbox.exists(report_settings.account, key):
                continue
            facts = context(organization, month)
            subject = f"{report_settings.brand}: backup report for {organization.name}, {facts['month']}"
            text = render_to_string("reports/email/monthly.txt", facts)
            delivery_id = outbox.enqueue(
                report_settings.account, key, subject, text, "", recipients, organization=organization,
                attachment=pdf(organization, month), attachment_name=file_name(organization, month, "pdf"),
            )
            if delivery_id:
                ids.append(delivery_id)
    return ids
