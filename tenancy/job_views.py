"""The page of one background job (an evaluation or a sync asked for from a page): it
polls its own status with htmx until the job is finished, then shows the outcome."""

from django.shortcuts import redirect, render

from tenancy import background
from tenancy.models import BackgroundJob
from tenancy.pages import MANAGE, member_page

superuser_page = member_page(require=MANAGE, refusal="Only a superuser runs evaluations and syncs.")


def _job(member, pk) -> BackgroundJob:
    background.expire_stale(member.account)  # a job whose worker died ends here, and the page stops polling
    return member.get(member.scope(BackgroundJob).select_related("requested_by"), pk=pk)


@superuser_page
def job_page(request, member, pk):
    return render(request, "tenancy/background_job.html", {"job": _job(member, pk)})


@superuser_page
def job_status(request, member, pk):
    return render(request, "tenancy/_background_job.html", {"job": _job(member, pk)})


def show(job):
    """Where a page sends the person who just started `job`."""
    return redirect("tenancy:background-job", pk=job.pk)
