"""The page of one background job (an evaluation or a sync asked for from a page): it
polls its own status with htmx until the job is finished, then shows the outcome."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render

from tenancy import background, scoping
from tenancy.models import BackgroundJob


def _job(request, pk) -> BackgroundJob:
    account = scoping.member_account(request.user)
    if not scoping.can(request.user, scoping.MANAGE):
        raise PermissionDenied("Only a superuser runs evaluations and syncs.")
    background.expire_stale(account)  # a job whose worker died ends here, and the page stops polling
    jobs = BackgroundJob.objects.select_related("requested_by")
    return get_object_or_404(scoping.scope(request.user, jobs), pk=pk)  # scoped


@login_required
def job_page(request, pk):
    return render(request, "tenancy/background_job.html", {"job": _job(request, pk)})


@login_required
def job_status(request, pk):
    return render(request, "tenancy/_background_job.html", {"job": _job(request, pk)})


def show(job):
    """Where a page sends the person who just started `job`."""
    return redirect("tenancy:background-job", pk=job.pk)
