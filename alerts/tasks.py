"""Beat nudges; each account's evaluation is its own task, taking a primary key."""

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from alerts.evaluation import evaluate
from alerts.models import EvaluationRequest
from tenancy.models import Account


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
