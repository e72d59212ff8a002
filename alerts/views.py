"""The dashboard's alert pages (R11): list grouped by organization and kind, detail, dismissal."""

from functools import wraps
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from alerts import dismiss
from alerts.categories import KINDS
from alerts.groups import open_groups
from alerts.models import Alert, AlertState
from inventory.models import Appliance
from tenancy import scoping
from tenancy.models import Organization
from tenancy.validation import parse_id
from uniview.redirects import go_next

ROWS_PER_GROUP = 200
REASON_LENGTH = 2000  # as the API's DismissSerializer


def _filters(query):
    return {
        "organization": query.get("organization") or "",
        "group": query.get("group") or "",
        "kind": query.get("kind") or "",
    }


def _page_filters(request):
    """The filters of the alert list an htmx request comes from (its HX-Current-URL), so the
    counts answered after an inline dismissal are the ones that page shows."""
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    if current.path != reverse("dashboard:alerts"):
        return _filters({})
    return _filters(QueryDict(current.query))


def _filtered(user, filters):
    queryset = dismiss.open_alerts_for(user)
    organization = parse_id(filters["organization"])
    if organization is not None:
        queryset = queryset.filter(organization_id=organization)
    if filters["group"]:
        queryset = queryset.filter(group_key=filters["group"])
    if filters["kind"] in KINDS:
        queryset = queryset.filter(kind=filters["kind"])
    return queryset


@login_required
def home(request):
    return redirect("dashboard:alerts")


@login_required
def alert_list(request):
    scoping.member_account(request.user)
    filters = _filters(request.GET)
    open_alerts = dismiss.open_alerts_for(request.user)
    queryset = _filtered(request.user, filters)
    groups = open_groups(queryset)
    all_groups = (
        open_alerts.values_list("group_key", "group_label").distinct().order_by("group_label")
    )
    context = {
        "groups": groups,
        "filters": filters,
        "total": sum(g["open_count"] for g in groups),
        "all_total": open_alerts.count(),
        "organizations": scoping.scope(request.user, Organization.objects.all()),  # scoped
        "group_choices": all_groups,
        "kinds": KINDS,
        "can_dismiss": scoping.can(request.user, scoping.DISMISS),
        "can_dismiss_selection": scoping.can(request.user, scoping.DISMISS_SELECTION),
    }
    return render(request, "alerts/list.html", context)


@login_required
def group_rows(request):
    """The rows of one group, loaded when the group is expanded."""
    key = request.GET.get("group", "")
    alerts = (
        dismiss.open_alerts_for(request.user)
        .filter(group_key=key)
        .select_related("organization")
        .order_by("-raised_at")[:ROWS_PER_GROUP]
    )
    return render(request, "alerts/_rows.html", {
        "alerts": alerts, "can_dismiss": scoping.can(request.user, scoping.DISMISS), "limit": ROWS_PER_GROUP,
    })


@login_required
def alert_detail(request, pk):
    alert = get_object_or_404(
        scoping.scope(request.user, Alert.objects.select_related("organization", "dismissed_by")), pk=pk
    )
    events = alert.events.select_related("actor").prefetch_related("deliveries")
    return render(request, "alerts/detail.html", {
        "alert": alert, "events": events, "upgrade_appliances": _upgrade_appliances(request.user, alert),
        "can_dismiss": scoping.can(request.user, scoping.DISMISS) and alert.state == AlertState.OPEN,
    })


def _upgrade_appliances(user, alert):
    """R2.2: the appliances the upgrade alert asks to upgrade, each with its page if the user may see it."""
    if alert.kind != "appliance_upgrade":
        return []
    listed = [row for row in (alert.details or {}).get("appliances", []) if isinstance(row, dict)]
    ids = [row["id"] for row in listed if isinstance(row.get("id"), int)]
    visible = set(scoping.scope(user, Appliance.objects.filter(pk__in=ids)).values_list("pk", flat=True))  # scoped
    return [
        {**row, "url": reverse("inventory:appliance", args=[row["id"]]) if row.get("id") in visible else None}
        for row in listed
        if row.get("id") in visible or not scoping.organization_limit(user)
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


def _after(request, count, what):
    messages.success(request, f"Dismissed {count} alert{'s' if count != 1 else ''}{what}.")
    return go_next(request, reverse("dashboard:alerts"))


def _after_inline(request, count, what, removed, groups):
    """R11.2: after a dismissal in place, the heading, the groups' badges, the bell and the
    Dismiss-all question all answer the same new counts; an emptied group leaves the page."""
    filters = _page_filters(request)
    open_alerts = dismiss.open_alerts_for(request.user)
    filtered = _filtered(request.user, filters)
    still_open = {g["group_key"]: g for g in open_groups(filtered.filter(group_key__in=groups))}
    total = filtered.count()
    all_total = open_alerts.count()
    return render(request, "alerts/_after_dismiss.html", {
        "removed": removed,
        "touched": [(key, still_open.get(key)) for key in groups],
        "total": total, "all_total": all_total, "bell_count": all_total, "filters": filters,
        "can_dismiss": scoping.can(request.user, scoping.DISMISS),
        "message": f"Dismissed {count} alert{'s' if count != 1 else ''}{what}.",
    })


@login_required
@require_POST
@_reason_checked
def dismiss_one(request, pk):
    alert = get_object_or_404(scoping.scope(request.user, Alert.objects.all()), pk=pk)  # scoped
    count = dismiss.dismiss_alert(request.user, alert.pk, _reason(request))
    if request.headers.get("HX-Request") and request.POST.get("inline"):
        return _after_inline(request, count, "", removed=[alert.pk], groups=[alert.group_key])
    return _after(request, count, "")


@login_required
@require_POST
@_reason_checked
def dismiss_group(request):
    key = request.POST.get("group", "")
    count = dismiss.dismiss_group(request.user, key, _reason(request))
    if request.headers.get("HX-Request") and request.POST.get("inline"):
        return _after_inline(request, count, " in the group", removed=[], groups=[key])
    return _after(request, count, " in the group")


@login_required
@require_POST
@_reason_checked
def dismiss_all(request):
    count = dismiss.dismiss_all(request.user, _reason(request))
    return _after(request, count, "")


def _refuse(request, text):
    """A selection that cannot be dismissed: the list again, with the reason (an htmx form is sent there too)."""
    messages.error(request, text)
    return go_next(request, reverse("dashboard:alerts"))


@login_required
@require_POST
@_reason_checked
def dismiss_selection(request):
    organization = request.POST.get("organization") or None
    group = request.POST.get("group") or None
    if organization is not None:
        organization = parse_id(organization)
        if organization is None or not scoping.scope(request.user, Organization.objects.filter(pk=organization)).exists():  # scoped
            return _refuse(request, "Organization: choose one from the list.")
    if organization is None and not group:
        return _refuse(request, "Selection: choose an organization, a group, or both.")
    count = dismiss.dismiss_selection(request.user, organization, group, _reason(request))
    return _after(request, count, " in the selection")
