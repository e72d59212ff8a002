from django.core.management.base import BaseCommand
from django.utils import timezone

from alerts.evaluation import evaluate
from demo.builder import build, logins


class Command(BaseCommand):
    help = 'Build the "Demo MSP" account (idempotent) and evaluate it once.'

    def handle(self, *args, **options):
        account = build()
        run = evaluate(account, timezone.now())
        self.stdout.write(f"Demo account {account.name!r}: {run.raised} alerts raised.")
        for role, email, password in logins():
            self.stdout.write(f"{role}: {email} / {password}")
