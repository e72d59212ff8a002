"""The dashboard's alert pages (R11): list grouped by organization and kind, detail, dismissal."""

from functools import wraps
from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse

from alerts import dismiss
from alerts.categories import KINDS
from alerts.groups import open_groups
from alerts.models import Alert, AlertState, Severity
from alerts.severity import RANK, rank_expression
from inventory.models import Appliance
from maintenance.words import notes as maintenance_notes
from tenancy.models import Organization
from tenancy.pages import DISMISS, DISMISS_SELECTION, member_page
from tenancy.validation import parse_id

ROWS_PER_GROUP = 200
GROUPS_PER_PAGE = 50
REASON_LENGTH = 2000  # as the API's DismissSerializer


def _filters(query):
    return {
        "organization": query.get("organization") or "",
        "group": query.get("group") or "",
        "kind": query.get("kind") or "",
        "severity": query.get("severity") or "",
        "sort": query.get("sort") or "",
    }


def _live_query(filters, organizations) -> str:
    """The query the list refreshes itself with: the filters it applies, never an id it ignored
    (another account's organization refreshes like a missing one: R1.1)."""
    kept = {k: v for k, v in filters.items() if v}
    if "organization" in kept and not organizations.filter(pk=parse_id(kept["organization"])).exists():
        del kept["organization"]
    return urlencode({**kept, "live": 1})


def _page_filters(request):
    """The filters of the alert list an htmx request comes from (its HX-Current-URL), so the
    counts answered after an inline dismissal are the ones that page shows."""
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    if current.path != reverse("dashboard:alerts"):
        return _filters({})
    return _filters(QueryDict(current.query))


def _filtered(member, filters):
    queryset = dismiss.open_alerts_for(member.user)
    organization = parse_id(filters["organization"])
    if organization is not None:
        queryset = queryset.filter(organization_id=organization)
    if filters["group"]:
        queryset = queryset.filter(group_key=filters["group"])
    if filters["kind"] in KINDS:
        queryset = queryset.filter(kind=filters["kind"])
    if filters["severity"] in Severity.values:  # R20.1
        queryset = queryset.filter(severity=filters["severity"])
    return queryset


def _sorted(groups, filters):
    """R20.1: by name, or the most severe first (then by name)."""
    if filters["sort"] == "severity":
        return sorted(groups, key=lambda g: (RANK.get(g["severity"], 1), g["group_label"]))
    return groups


@member_page
def alert_list(request, member):
    filters = _filters(request.GET)
    open_alerts = dismiss.open_alerts_for(member.user)
    queryset = _filtered(member, filters)
    groups = _sorted(open_groups(queryset), filters)
    shown = GROUPS_PER_PAGE * _pages(request)
    all_groups = (
        open_alerts.values_list("group_key", "group_label").distinct().order_by("group_label")
    )
    organizations = member.scope(Organization)
    context = {
        "live_query": _live_query(filters, organizations),
        "groups": groups[:shown],
        "more_groups": len(groups) - shown if len(groups) > shown else 0,
        "next_pages": _pages(request) + 1,
        "filters": filters,
        "total": sum(g["open_count"] for g in groups),
        "all_total": open_alerts.count(),
        "organizations": organizations,
        "group_choices": all_groups,
        "kinds": KINDS,
        "severities": Severity.choices,
        "maintenance_notes": maintenance_notes(member.account, anything=True),  # R16.3
        "can_dismiss": member.can(DISMISS),
        "can_dismiss_selection": member.can(DISMISS_SELECTION),
    }
    if request.headers.get("HX-Request") and request.GET.get("live"):
        return render(request, "alerts/_live.html", context)  # the list refreshing itself
    return render(request, "alerts/list.html", context)


def _pages(request):
    """How many pages of groups the list shows ("Show more groups" adds one); 1 for anything else."""
    value = request.GET.get("pages", "")
    return min(int(value), 100) if value.isascii() and value.isdigit() and int(value) > 0 else 1


@member_page
def bell(request, member):
    """The bell's count, which it fetches every DASHBOARD_REFRESH_SECONDS (the context processor counts)."""
    return render(request, "alerts/_bell_count.html", {"poll": True})


@member_page
def group_rows(request, member):
    """The rows of one group, loaded when the group is expanded."""
    key = request.GET.get("group", "")
    alerts = (
        dismiss.open_alerts_for(member.user)
        .filter(group_key=key)
        .select_related("organization", "asset", "appliance")
        .order_by(rank_expression(), "-raised_at")[:ROWS_PER_GROUP]
    )
    return render(request, "alerts/_rows.html", {
        "alerts": alerts, "can_dismiss": member.can(DISMISS), "limit": ROWS_PER_GROUP,
    })


@member_page
def alert_detail(request, member, pk):
    alert = member.get(member.scope(Alert).select_related("organization", "dismissed_by"), pk=pk)
    events = alert.events.select_related("actor").prefetch_related("deliveries")
    return render(request, "alerts/detail.html", {
        "alert": alert, "events": events, "upgrade_appliances": _upgrade_appliances(member, alert),
        "can_dismiss": member.can(DISMISS) and alert.state == AlertState.OPEN,
    })


def _upgrade_appliances(member, alert):
    """R2.2: the appliances the upgrade alert asks to upgrade, each with its page if the user may see it."""
    if alert.kind != "appliance_upgrade":
        return []
    listed = [row for row in (alert.details or {}).get("appliances", []) if isinstance(row, dict)]
    ids = [row["id"] for row in listed if isinstance(row.get("id"), int)]
    visible = set(member.scope(Appliance).filter(pk__in=ids).values_list("pk", flat=True))
    return [
        {**row, "url": reverse("inventory:appliance", args=[row["id"]]) if row.get("id") in visible else None}
        for row in listed
        if row.get("id") in visible or not member.organization_limit
    ]


def _reason(request):
    return (request.headers.get("HX-Prompt") or request.POST.get("reason") or "").strip()


def _reason_checked(view):
    """A reason over the limit is refused, not cut: the person sees why nothing was dismissed."""
    @wraps(view)
    def checked(request, *args, **kwargs):
        if len(_reason(request)) > REASON_LENGTH:
            message = f"Reason: at most {REASON_LENGTH} characters. Nothing was dismissed."
            if request.headers.get("HX-Request"):
                return HttpResponse(message, status=400, content_type="text/plain")
            messages.error(request, message)
            return redirect("dashboard:alerts")
        return view(request, *args, **kwargs)
    return checked


def _after(request, member, count, what):
    messages.success(request, f"Dismissed {count} alert{'s' if count != 1 else ''}{what}.")
    return member.go_next(reverse("dashboard:alerts"))


def _after_inline(request, member, count, what, removed, groups):
    """R11.2: after a dismissal in place, the heading, the groups' badges, the bell and the
    Dismiss-all question all answer the same new counts; an emptied group leaves the page."""
    filters = _page_filters(request)
    open_alerts = dismiss.open_alerts_for(member.user)
    filtered = _filtered(member, filters)
    still_open = {g["group_key"]: g for g in open_groups(filtered.filter(group_key__in=groups))}
    total = filtered.count()
    all_total = open_alerts.count()
    return render(request, "alerts/_after_dismiss.html", {
        "removed": removed,
        "touched": [(key, still_open.get(key)) for key in groups],
        "total": total, "all_total": all_total, "bell_count": all_total, "filters": filters,
        "can_dismiss": member.can(DISMISS),
        "message": f"Dismissed {count} alert{'s' if count != 1 else ''}{what}.",
    })


# The dismissals' rights are checked by `alerts.dismiss`, which the API shares (R1.2, R1.3).
@member_page(methods=["POST"])
@_reason_checked
def dismiss_one(request, member, pk):
    alert = member.get(Alert, pk=pk)
    count = dismiss.dismiss_alert(member.user, alert.pk, _reason(request))
    if request.headers.get("HX-Request") and request.POST.get("inline"):
        return _after_inline(request, member, count, "", removed=[alert.pk], groups=[alert.group_key])
    return _after(request, member, count, "")


@member_page(methods=["POST"])
@_reason_checked
def dismiss_group(request, member):
    key = request.POST.get("group", "")
    count = dismiss.dismiss_group(member.user, key, _reason(request))
    if request.headers.get("HX-Request") and request.POST.get("inline"):
        return _after_inline(request, member, count, " in the group", removed=[], groups=[key])
    return _after(request, member, count, " in the group")


@member_page(methods=["POST"])
@_reason_checked
def dismiss_all(request, member):
    count = dismiss.dismiss_all(member.user, _reason(request))
    return _after(request, member, count, "")


def _refuse(request, member, text):
    """A selection that cannot be dismissed: the list again, with the reason (an htmx form is sent there too)."""
    messages.error(request, text)
    return member.go_next(reverse("dashboard:alerts"))


@member_page(methods=["POST"])
@_reason_checked
def dismiss_selection(request, member):
    organization = request.POST.get("organization") or None
    group = request.POST.get("group") or None
    if organization is not None:
        organization = parse_id(organization)
        if organization is None or not member.scope(Organization).filter(pk=organization).exists():
            return _refuse(request, member, "Organization: choose one from the list.")
    if organization is None and not group:
        return _refuse(request, member, "Selection: choose an organization, a group, or both.")
    count = dismiss.dismiss_selection(member.user, organization, group, _reason(request))
    return _after(request, member, count, " in the selection")
