"""Beat nudges; each account's evaluation is its own task, taking a primary key.

Beat's evaluation runs by due time every minute (`evaluate_account`). A full evaluation
of a large account can be split into one task per batch of organizations
(`evaluate_split`), a Celery group that every worker shares.
"""

from celery import group, shared_task
from django.conf import settings
from django.utils import timezone

from alerts.evaluation import evaluate, evaluate_due, evaluate_shard
from alerts.models import EvaluationRequest
from tenancy import background
from tenancy.models import Account, BackgroundJob, Organization


@shared_task
def evaluate_all():
    for account_id in Account.objects.values_list("pk", flat=True):
        evaluate_account.delay(account_id)


@shared_task
def evaluate_account(account_id):
    """Beat's cycle for one account: only what is due or changed (R14.1); a full one when an
    on-demand request is waiting (R15.6: its own run was lost, beat's next run serves it)."""
    account = Account.objects.filter(pk=account_id).first()
    if account is None:
        return
    if EvaluationRequest.objects.filter(account=account).exists():
        evaluate(account, timezone.now())
    else:
        evaluate_due(account, timezone.now())


def evaluate_split(account_id, size=None) -> int:
    """Queue a full evaluation of the account as one task per batch of `size` organizations,
    plus one for the rules that are not per asset; answers the number of tasks queued."""
    size = size or settings.EVALUATION_SHARD_ORGANIZATIONS
    organizations = list(Organization.objects.filter(account_id=account_id).order_by("pk").values_list("pk", flat=True))
    batches = [organizations[i:i + size] for i in range(0, len(organizations), size)]
    tasks = [evaluate_organizations.s(account_id, batch) for batch in batches]
    group([*tasks, evaluate_organizations.s(account_id, None)]).apply_async()
    return len(tasks) + 1


@shared_task(bind=True, max_retries=120)
def evaluate_organizations(self, account_id, organization_ids):
    """One batch of a split full evaluation; waits its turn behind a run holding the account."""
    account = Account.objects.filter(pk=account_id).first()
    if account is not None and evaluate_shard(account, timezone.now(), organization_ids).skipped:
        raise self.retry(countdown=settings.EVALUATION_RETRY_SECONDS)


@shared_task(bind=True, max_retries=120)
def evaluate_requested(self, account_id):
    """R15.6: the run asked for while another held the account; waits its turn, then runs once."""
    account = Account.objects.filter(pk=account_id).first()
    if account is None or not EvaluationRequest.objects.filter(account=account).exists():
        return  # already served by a run that started after the request
    if evaluate(account, timezone.now()).skipped:
        raise self.retry(countdown=settings.EVALUATION_RETRY_SECONDS)


@shared_task(bind=True, max_retries=120)
def run_evaluation_job(self, job_id):
    """An evaluation asked for from a page or the API; waits its turn behind a running one (R15.6)."""
    try:
        background.run(job_id, _evaluation)
    except background.NotYet:
        raise self.retry(countdown=settings.EVALUATION_RETRY_SECONDS) from None


def _evaluation(job):
    run = evaluate(job.account, timezone.now())
    if run.skipped:
        raise background.NotYet("Waiting for the evaluation already running for this account to finish.")
    result = {"evaluation": run.pk, "raised": run.raised, "resolved": run.resolved, "kept": run.kept,
              "duration_ms": run.duration_ms}
    return True, evaluation_summary(run), result


def evaluation_summary(run) -> str:
    def count(n, word):
        return f"{n} alert{'s' if n != 1 else ''} {word}"

    return (f"{count(run.raised, 'raised')}, {count(run.resolved, 'resolved')}; "
            f"{run.kept} still open. Took {run.duration_ms / 1000:.1f} s.")


def start_evaluation(account, user, wait=False):
    """Evaluate the account now in a worker (a page's or the API's request); answers the job."""
    return background.start(account, user, BackgroundJob.Kind.EVALUATION, "Evaluation of every rule now",
                            run_evaluation_job, _evaluation, wait=wait)
