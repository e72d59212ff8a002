"""Beat nudges; each account's evaluation is its own task, taking a primary key."""

from celery import shared_task
from django.utils import timezone

from alerts.evaluation import evaluate
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
