from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from alerts.evaluation import evaluate
from tenancy.models import Account


class Command(BaseCommand):
    help = "Evaluate every rule now, or replayed at --now (R14.1)."

    def add_arguments(self, parser):
        parser.add_argument("--account", type=int)
        parser.add_argument("--now", help="ISO 8601 time with offset, e.g. 2026-11-02T08:00:00+00:00")

    def handle(self, *args, account=None, now=None, **options):
        at = timezone.now()
        if now:
            at = parse_datetime(now)
            if at is None or at.tzinfo is None:
                raise CommandError("--now must be an ISO 8601 time with an offset.")
        accounts = Account.objects.all()
        if account is not None:
            accounts = accounts.filter(pk=account)
            if not accounts.exists():
                raise CommandError(f"No account {account}.")
        for acct in accounts:
            run = evaluate(acct, at)
            state = "skipped (another run holds the lock)" if run.skipped else (
                f"raised {run.raised}, resolved {run.resolved}, kept {run.kept} in {run.duration_ms} ms"
            )
            self.stdout.write(f"{acct.name}: {state}")
