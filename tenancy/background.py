"""Background jobs: heavy work asked for from a page or the API leaves the request.

`start()` records a queued BackgroundJob and hands its id to a Celery task once the
row is committed (or runs it here when the caller chose to wait). The task calls
`run()` with the work; the row moves queued → running → done/failed, with its times
and a summary written for a person, and the page polls it until it is finished.

A worker killed mid-run leaves its job "running" with nobody running it (and a lost
message leaves one "queued"); reading jobs ends those older than
BACKGROUND_JOB_TIMEOUT_SECONDS as failed, so no page polls for ever.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.timesince import timesince

from tenancy.models import BackgroundJob

State = BackgroundJob.State
log = logging.getLogger(__name__)


class NotYet(Exception):
    """The work cannot start yet (another run holds the account); the job stays queued."""


def start(account, user, kind, label, task, work, params=None, wait=False) -> BackgroundJob:
    """Queue `task` (which calls `run(job_id, work)`) for a new job; with `wait`, run `work` here
    for a caller that asked to wait (a script), falling back to the queue if it cannot start yet."""
    job = BackgroundJob.objects.create(
        account=account, requested_by=user if user and user.is_authenticated else None,
        kind=kind, label=label, params=params or {},
    )
    if wait:
        try:
            run(job.pk, work)
        except NotYet:
            pass
        else:
            job.refresh_from_db()
            return job
    transaction.on_commit(lambda: _send(task, job.pk))
    return job


def _send(task, job_id):
    try:
        task.delay(job_id)
    except Exception:  # broker down: say so on the job rather than leave it queued for ever
        log.warning("could not queue background job %s", job_id, exc_info=True)
        BackgroundJob.objects.filter(pk=job_id, state=State.QUEUED).update(
            state=State.FAILED, finished_at=timezone.now(),
            summary="The task queue could not be reached, so this never started. Try again in a moment.",
        )


def run(job_id, work) -> BackgroundJob | None:
    """Run `work(job) -> (ok, summary, result)` for a queued job; a job already taken is left alone."""
    now = timezone.now()
    if not BackgroundJob.objects.filter(pk=job_id, state=State.QUEUED).update(state=State.RUNNING, started_at=now):
        return None
    job = BackgroundJob.objects.select_related("account").get(pk=job_id)
    try:
        ok, summary, result = work(job)
    except NotYet as waiting:  # back in the queue, saying what it waits for (R15.6)
        BackgroundJob.objects.filter(pk=job_id).update(state=State.QUEUED, started_at=None, summary=str(waiting))
        raise
    except Exception:  # the job says it failed, the log says why (an exception's text is no sentence)
        log.exception("background job %s failed", job_id)
        ok, result = False, {}
        summary = f"Failed: an unexpected error stopped it. The worker's log has the details (job {job_id})."
    job.state, job.summary, job.result = (State.DONE if ok else State.FAILED), summary, result
    job.finished_at = timezone.now()
    job.save(update_fields=["state", "summary", "result", "finished_at"])
    return job


def expire_stale(account, now=None) -> int:
    """End the account's jobs that have run, or waited, past BACKGROUND_JOB_TIMEOUT_SECONDS as
    failed, saying why; answers how many. Called whenever jobs are read."""
    now = now or timezone.now()
    timeout = timedelta(seconds=settings.BACKGROUND_JOB_TIMEOUT_SECONDS)
    took = timesince(now - timeout, now).replace("\xa0", " ")  # for a page and the API alike
    jobs = BackgroundJob.objects.filter(account=account)
    stopped = jobs.filter(state=State.RUNNING, started_at__lt=now - timeout).update(
        state=State.FAILED, finished_at=now,
        summary=f"The worker running this stopped before it finished: nothing was heard from it for {took}. "
                "Start it again.",
    )
    lost = jobs.filter(state=State.QUEUED, created_at__lt=now - timeout).update(
        state=State.FAILED, finished_at=now, summary=f"No worker picked this up within {took}. Start it again.",
    )
    return stopped + lost
