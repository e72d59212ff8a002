"""Beat nudges; each account's evaluation is its own task, taking a primary key."""

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from alerts.evaluation import evaluate
from alerts.models import EvaluationRequest
from tenancy import background
from tenancy.models import Account, BackgroundJob


@shared_task
def evaluate_all():
    for account_id in Account.objects.values_list("pk", flat=True):
        evaluate_account.delay(account_id)


@shared_task
def evaluate_account(account_id):
    account = Account.objects.filter(pk=account_id).first()
    if account is not None:
        evaluate(account, timezone.now())


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
