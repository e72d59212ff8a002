"""The daily digest (R18.3): one email per account at its hour, in its zone, to its recipients —
what is open by organization, what was raised and resolved in the last 24 hours, and compliance
yesterday against the 30 days' average.

Written to the reports' outbox once per account and local day (key `digest:<day>`), so two beats,
a late beat or a killed worker never send it twice (reports/outbox.py)."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count
from django.template.loader import render_to_string
from django.urls import reverse

from alerts.models import Alert, AlertState
from reports import outbox
from reports.figures import yesterday_and_average
from reports.models import ReportSettings
from reports.text import day_text, percent
from tenancy.models import Organization

RECENT_LISTED = 25  # raised or closed alerts listed by name; more are counted


def grouping() -> tuple[str, str]:
    """What open alerts are counted by within an organization: their severity (R20.1) where
    alerts have one, else their kind. (field, heading)"""
    fields = {field.name for field in Alert._meta.get_fields()}
    return ("severity", "Severity") if "severity" in fields else ("kind", "Kind")


def _label(field, value) -> str:
    if field == "kind":
        from alerts.categories import KINDS

        return KINDS.get(value, value)
    return str(value).capitalize()


def _open_by_organization(account):
    field, _ = grouping()
    rows = (
        Alert.objects.filter(account=account, state=AlertState.OPEN)
        .values("organization_id", "organization_name", field).annotate(count=Count("id"))
        .order_by("organization_name", field)
    )
    names = dict(Organization.objects.filter(account=account).values_list("pk", "name"))
    found = {}
    for row in rows:
        name = names.get(row["organization_id"]) or row["organization_name"] or "No organization"
        entry = found.setdefault(name, {"name": name, "total": 0, "groups": []})
        entry["total"] += row["count"]
        entry["groups"].append((_label(field, row[field]), row["count"]))
    return sorted(found.values(), key=lambda entry: (-entry["total"], entry["name"]))


def _recent(account, since, now):
    raised = Alert.objects.filter(account=account, raised_at__gte=since, raised_at__lt=now).order_by("-raised_at")
    resolved = Alert.objects.filter(account=account, state=AlertState.RESOLVED, resolved_at__gte=since,
                                    resolved_at__lt=now).order_by("-resolved_at")
    dismissed = Alert.objects.filter(account=account, state=AlertState.DISMISSED, dismissed_at__gte=since,
                                     dismissed_at__lt=now).order_by("-dismissed_at")
    return {
        "raised": list(raised[:RECENT_LISTED]), "raised_count": raised.count(),
        "resolved": list(resolved[:RECENT_LISTED]), "resolved_count": resolved.count(),
        "dismissed_count": dismissed.count(),
    }


def _compliance(account, yesterday):
    figures = yesterday_and_average(account, yesterday)
    rows = []
    for organization in Organization.objects.filter(account=account).order_by("name"):
        day, average = figures.get(organization.pk, (None, None))
        rows.append({"name": organization.name, "yesterday": percent(day), "average": percent(average),
                     "down": day is not None and average is not None and day < average - 0.0005})
    day, average = figures[None]
    return {"rows": rows, "yesterday": percent(day), "average": percent(average)}


def build(account, now) -> tuple[str, str, str]:
    """(subject, text, html) of the account's digest at `now`."""
    report_settings = ReportSettings.for_account(account)
    local = now.astimezone(ZoneInfo(report_settings.time_zone))
    yesterday = local.date() - timedelta(days=1)
    _, heading = grouping()
    context = {
        "brand": report_settings.brand, "account": account, "today": day_text(local.date()),
        "yesterday": day_text(yesterday), "open": _open_by_organization(account), "group_heading": heading,
        "recent": _recent(account, now - timedelta(hours=24), now),
        "compliance": _compliance(account, yesterday),
        "alerts_url": settings.PORTAL_URL + reverse("dashboard:alerts"),
    }
    context["open_total"] = sum(entry["total"] for entry in context["open"])
    subject = f"{report_settings.brand} daily digest, {day_text(local.date())}: {context['open_total']} open alerts"
    return (subject, render_to_string("reports/email/digest.txt", context),
            render_to_string("reports/email/digest.html", context))


def due_digests(now) -> list[int]:
    """Write today's digest of every account past its hour (in its zone) that has none yet;
    answers the new deliveries' ids."""
    ids = []
    for report_settings in ReportSettings.objects.filter(digest_enabled=True).select_related("account"):
        if not report_settings.digest_recipients:
            continue
        local = now.astimezone(ZoneInfo(report_settings.time_zone))
        if local.hour < report_settings.digest_hour:
            continue
        key = f"digest:{local.date().isoformat()}"
        if outbox.exists(report_settings.account, key):
            continue
        subject, text, html = build(report_settings.account, now)
        delivery_id = outbox.enqueue(report_settings.account, key, subject, text, html,
                                     report_settings.digest_recipients)
        if delivery_id:
            ids.append(delivery_id)
    return ids
