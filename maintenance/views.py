"""The maintenance windows pages (R16): the list with each window's next occurrence, a form
with a live preview of the next five occurrences in the window's zone, and delete with the
product's confirmation. Everyone reads; the superuser writes (R16.1)."""

from datetime import UTC

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from inventory.models import Appliance, Asset
from maintenance import occurrences
from maintenance.models import MaintenanceWindow
from maintenance.serializers import PREVIEW, SCOPE_FIELDS, MaintenanceWindowSerializer
from maintenance.words import moment_in_words
from tenancy.models import Organization
from tenancy.pages import MANAGE, member_page

REFUSAL = "Only a superuser may change maintenance windows."
windows_page = member_page(write=MANAGE, refusal=REFUSAL)
CHOICES_SHOWN = 500


def _form_data(post) -> dict:
    """The form's fields as the API takes them: a one-off window or a recurring one."""
    recurring = post.get("kind") == "recurring"
    data = {
        "name": post.get("name", ""), "scope": post.get("scope", ""), "timezone": post.get("timezone", "").strip(),
        "starts_at": post.get("starts_at", ""),
        "ends_at": None if recurring else (post.get("ends_at") or None),
        "rrule": post.get("rrule", "").strip() if recurring else "",
        "duration_minutes": (post.get("duration_minutes") or None) if recurring else None,
    }
    scope = data["scope"]
    if scope in SCOPE_FIELDS:
        data[scope] = post.getlist(scope)
    return data


def _describe(window, now) -> dict:
    """A window as the list shows it: its next (or current) occurrence in words, in its zone."""
    try:
        tz = occurrences.zone(window.timezone)
        listed = occurrences.upcoming(window, now, 1)
    except occurrences.WindowError:
        tz, listed = None, []
    following = listed[0] if listed else None
    return {
        "window": window,
        "on_now": following is not None and following.holds(now),
        "next_start": moment_in_words(following.start, now, tz) if following else "",
        "next_end": moment_in_words(following.end, now, tz) if following else "",
    }


def _choices(member):
    return {
        "organizations": member.scope(Organization).order_by("name")[:CHOICES_SHOWN],
        "appliances": member.scope(Appliance).order_by("name")[:CHOICES_SHOWN],
        "assets": member.scope(Asset).select_related("appliance").order_by("name")[:CHOICES_SHOWN],
    }


@member_page
def window_list(request, member):
    now = timezone.now()
    windows = member.scope(MaintenanceWindow).prefetch_related("organizations", "appliances", "assets")
    return render(request, "maintenance/list.html", {
        "rows": [_describe(w, now) for w in windows], "can_manage": member.can(MANAGE),
    })


def _values(window, post):
    """What the form shows: what was posted, else the window's own values (in its zone)."""
    if post is not None:
        values = {k: post.get(k, "") for k in ("name", "scope", "timezone", "starts_at", "ends_at", "rrule",
                                                "duration_minutes", "kind")}
        for name in SCOPE_FIELDS:
            values[name] = {int(v) for v in post.getlist(name) if v.isdigit()}
        return values
    if window is None:
        return {"scope": "account", "timezone": "UTC", "kind": "once",
                **{name: set() for name in SCOPE_FIELDS}}
    tz = occurrences.zone(window.timezone) if window.timezone in occurrences.zone_names() else UTC
    local = lambda moment: moment.astimezone(tz).strftime("%Y-%m-%dT%H:%M") if moment else ""  # noqa: E731
    return {
        "name": window.name, "scope": window.scope, "timezone": window.timezone,
        "starts_at": local(window.starts_at), "ends_at": local(window.ends_at), "rrule": window.rrule,
        "duration_minutes": window.duration_minutes or "", "kind": "recurring" if window.rrule else "once",
        **{name: set(getattr(window, name).values_list("pk", flat=True)) for name in SCOPE_FIELDS},
    }


@windows_page
def window_edit(request, member, pk=None):
    """Create (pk None) or change a window; a POST with errors shows each beside its field."""
    window = member.get(MaintenanceWindow, pk=pk) if pk is not None else None
    errors = None
    if request.method == "POST":
        serializer = MaintenanceWindowSerializer(
            window, data=_form_data(request.POST), context={"account": member.account, "request": request})
        if serializer.is_valid():
            window = serializer.save()
            messages.success(request, f"Maintenance window “{window.name}” saved.")
            return redirect("maintenance:list")
        errors = serializer.errors
    return render(request, "maintenance/form.html", {
        "window": window, "errors": errors or {}, "can_manage": member.can(MANAGE),
        "values": _values(window, request.POST if errors else None),
        "scopes": MaintenanceWindow.Scope.choices, **_choices(member),
        "preview": _preview(member, request, request.POST) if errors else _saved_preview(window),
    }, status=400 if errors else 200)


def _occurrence_rows(window, tz, listed):
    return [{"start": f"{o.start.astimezone(tz):%a %-d %b %Y %H:%M %Z}",
             "end": f"{o.end.astimezone(tz):%a %-d %b %Y %H:%M %Z}"} for o in listed]


def _saved_preview(window):
    if window is None:
        return None
    try:
        tz = occurrences.zone(window.timezone)
        return {"rows": _occurrence_rows(window, tz, occurrences.upcoming(window, timezone.now(), PREVIEW)),
                "zone": window.timezone}
    except occurrences.WindowError as exc:
        return {"errors": [str(exc)]}


def _preview(member, request, post):
    """The next five occurrences of the window the form describes, or why there are none."""
    data = _form_data(post)
    data["name"] = data["name"] or "preview"
    serializer = MaintenanceWindowSerializer(data=data, context={"account": member.account, "request": request})
    if not serializer.is_valid():
        timing = ("timezone", "starts_at", "ends_at", "rrule", "duration_minutes")
        return {"errors": [f"{name.replace('_', ' ').capitalize()}: {message}"
                           for name in timing for message in serializer.errors.get(name, [])]}
    values = {k: v for k, v in serializer.validated_data.items() if k not in SCOPE_FIELDS}
    window = MaintenanceWindow(account=member.account, **values)
    tz = occurrences.zone(window.timezone)
    return {"rows": _occurrence_rows(window, tz, occurrences.upcoming(window, timezone.now(), PREVIEW)),
            "zone": window.timezone}


@member_page(methods=["POST"])
def window_preview(request, member):
    """htmx: the live preview as the form changes (nothing saved; every member may look)."""
    return render(request, "maintenance/_preview.html", {"preview": _preview(member, request, request.POST)})


@member_page(methods=["POST"], write=MANAGE, refusal=REFUSAL)
def window_delete(request, member, pk):
    window = member.get(MaintenanceWindow, pk=pk)
    name = window.name
    window.delete()
    messages.success(request, f"Maintenance window “{name}” deleted.")
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("maintenance:list")
        return response
    return redirect("maintenance:list")
