"""The asset detail panel and the jobs pages in the dashboard (R12)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from inventory import asset_detail
from inventory.models import Asset, Job
from tenancy import scoping
from uniview.redirects import go_next

POINTS_PER_PAGE = 25


def _asset(request, pk):
    return get_object_or_404(scoping.scope(request.user, Asset.objects.select_related("appliance", "organization")), pk=pk)


def _points_context(asset, cursor):
    try:
        points, next_cursor = asset_detail.recovery_points(asset, cursor, POINTS_PER_PAGE)
    except asset_detail.InvalidCursor as exc:
        raise Http404(str(exc)) from exc
    return {"asset": asset, "points": points, "next_cursor": next_cursor}


@login_required
def asset_page(request, pk):
    """R12.1: the asset's facts, recovery points (paged as you scroll) and running jobs."""
    asset = _asset(request, pk)
    context = _points_context(asset, None)
    context.update({
        "facts": asset_detail.facts(asset, timezone.now()),
        "legend": asset_detail.STATUS_LEGEND,
        "can_cancel": scoping.can(request.user, scoping.DISMISS),
        "from_alert": request.GET.get("alert", ""),
    })
    return render(request, "inventory/asset.html", context)


@login_required
def recovery_points(request, pk):
    """The next page of recovery points, swapped in when the last row is revealed (htmx)."""
    asset = _asset(request, pk)
    return render(request, "inventory/_points.html", _points_context(asset, request.GET.get("cursor")))


@login_required
def recovery_point(request, pk, kind, point_id):
    """R12.2: a recovery point opens its job details."""
    asset = _asset(request, pk)
    details = asset_detail.job_for(kind, point_id, asset) if kind in ("backup", "copy") else None
    if details is None:
        raise Http404("No such recovery point.")
    return render(request, "inventory/point.html", {"asset": asset, **details, "legend": asset_detail.STATUS_LEGEND})


def _jobs(request):
    return scoping.scope(request.user, Job.objects.select_related("appliance", "asset"))


@login_required
def job_list(request):
    """R12.2 "see all": every active job of the account."""
    scoping.member_account(request.user)
    jobs = _jobs(request).filter(state__in=asset_detail.ACTIVE_JOB_STATES).order_by("appliance__name", "-id")
    return render(request, "inventory/jobs.html", {"jobs": jobs, "can_cancel": scoping.can(request.user, scoping.DISMISS)})


@login_required
def job_page(request, pk):
    job = get_object_or_404(_jobs(request), pk=pk)
    return render(request, "inventory/job.html", {"job": job, "can_cancel": scoping.can(request.user, scoping.DISMISS)})


@login_required
@require_POST
def cancel_job(request, pk):
    """R12.2: sent to the appliance and confirmed; admin or superuser (R1.2)."""
    if not scoping.can(request.user, scoping.DISMISS):
        raise PermissionDenied("Only an admin or a superuser cancels jobs.")
    job = get_object_or_404(_jobs(request), pk=pk)
    try:
        job = asset_detail.cancel_job(job)
        messages.success(request, f"The appliance confirmed: job {job.details.get('name') or job.external_id} is {job.state}.")
    except asset_detail.CancelFailed as exc:
        messages.error(request, f"The job was not cancelled: {exc}")
    return go_next(request, reverse("inventory:job", args=[job.pk]))
