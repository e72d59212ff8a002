"""The asset detail panel and the jobs pages in the dashboard (R12)."""

from django.contrib import messages
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from inventory import asset_detail, backup_grid
from inventory.models import Asset, Job
from tenancy.pages import DISMISS, NotFound, Panels, member_page

POINTS_PER_PAGE = 25
ASSET_PANELS = Panels()  # contribute(member, asset) -> Panel, from rooms above (a maintenance window's note)


def _asset(member, pk):
    return member.get(member.scope(Asset).select_related("appliance", "organization"), pk=pk)


def _from_alert(request):
    """The alert id the user came from, for the back link; anything but an id is ignored, not a 500.

    The link only echoes what was typed: the alert page it leads to is scoped (R1.1).
    """
    value = request.GET.get("alert", "")
    return int(value) if value.isascii() and value.isdigit() else None


def _points_context(asset, cursor):
    try:
        points, next_cursor = asset_detail.recovery_points(asset, cursor, POINTS_PER_PAGE)
    except asset_detail.InvalidCursor as exc:
        raise NotFound(str(exc)) from exc
    return {"asset": asset, "points": points, "next_cursor": next_cursor}


@member_page
def asset_page(request, member, pk):
    """R12.1: the asset's facts, recovery points (paged as you scroll) and running jobs."""
    asset = _asset(member, pk)
    context = _points_context(asset, None)
    context.update({
        "facts": asset_detail.facts(asset, timezone.now()),
        "grid": backup_grid.rows([asset], timezone.now())[0],
        "grid_states": backup_grid.STATES,
        "legend": asset_detail.STATUS_LEGEND,
        "can_cancel": member.can(DISMISS),
        "from_alert": _from_alert(request),
        "panels": ASSET_PANELS(member, asset),
    })
    return render(request, "inventory/asset.html", context)


@member_page
def recovery_points(request, member, pk):
    """The next page of recovery points, swapped in when the last row is revealed (htmx)."""
    asset = _asset(member, pk)
    return render(request, "inventory/_points.html", _points_context(asset, request.GET.get("cursor")))


@member_page
def recovery_point(request, member, pk, kind, point_id):
    """R12.2: a recovery point opens its job details."""
    asset = _asset(member, pk)
    details = asset_detail.job_for(kind, point_id, asset) if kind in ("backup", "copy") else None
    if details is None:
        raise NotFound("No such recovery point.")
    return render(request, "inventory/point.html", {"asset": asset, **details, "legend": asset_detail.STATUS_LEGEND})


def _jobs(member):
    return member.scope(Job).select_related("appliance", "asset")


@member_page
def job_list(request, member):
    """R12.2 "see all": every active job of the account."""
    jobs = _jobs(member).filter(state__in=asset_detail.ACTIVE_JOB_STATES).order_by("appliance__name", "-id")
    return render(request, "inventory/jobs.html", {"jobs": jobs, "can_cancel": member.can(DISMISS)})


@member_page
def job_page(request, member, pk):
    job = member.get(_jobs(member), pk=pk)
    return render(request, "inventory/job.html", {"job": job, "can_cancel": member.can(DISMISS)})


@member_page(methods=["POST"], require=DISMISS, refusal="Only an admin or a superuser cancels jobs.")
def cancel_job(request, member, pk):
    """R12.2: sent to the appliance and confirmed; admin or superuser (R1.2)."""
    job = member.get(_jobs(member), pk=pk)
    try:
        job = asset_detail.cancel_job(job)
        messages.success(request, f"The appliance confirmed: job {job.details.get('name') or job.external_id} is {job.state}.")
    except asset_detail.CancelFailed as exc:
        messages.error(request, f"The job was not cancelled: {exc}")
    return member.go_next(reverse("inventory:job", args=[job.pk]))
