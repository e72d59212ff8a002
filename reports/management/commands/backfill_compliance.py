"""R18.1: recompute the compliance history of past days from the stored backups and statuses."""

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError

from reports import compliance
from reports.text import day_text
from tenancy.models import Account

MAX_DAYS = 400  # backups are kept 400 days by default (RETENTION_BACKUP_DAYS)


class Command(BaseCommand):
    help = "Compute the daily compliance rows of the last N days (R18.1), for every account or one."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=90, help="How many days before today (default 90).")
        parser.add_argument("--account", type=int, help="Only this account (its id).")
        parser.add_argument("--today", type=date.fromisoformat, help="Count back from this day (YYYY-MM-DD).")

    def handle(self, *args, days, account=None, today=None, **options):
        if not 1 <= days <= MAX_DAYS:
            raise CommandError(f"--days must be between 1 and {MAX_DAYS}.")
        accounts = Account.objects.order_by("pk")
        if account is not None:
            accounts = accounts.filter(pk=account)
            if not accounts.exists():
                raise CommandError(f"--account: no account has the id {account}.")
        for row in accounts:
            first, last = compliance.backfill(row, days, today=today)
            self.stdout.write(f"{row.name}: compliance computed from {day_text(first)} to {day_text(last)}.")
        if today is not None and today > date.today() + timedelta(days=1):
            self.stdout.write("Note: --today is in the future; days after today hold what is stored so far.")
