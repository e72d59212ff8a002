"""Beat's side of the reports: compliance after midnight (R18.1), the digest and the monthly
report (R18.3), and the sweep of the reports' outbox. Tasks take ids; the database holds the truth."""

from celery import shared_task
from django.utils import timezone

from reports import compliance


@shared_task
def hourly():
    """Each account's yesterday once it is past midnight in its zone (R18.1)."""
    now = timezone.now()
    return {"compliance": compliance.compute_all_due(now)}
