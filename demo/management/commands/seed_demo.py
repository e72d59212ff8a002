from django.core.management.base import BaseCommand
from django.utils import timezone

from alerts.evaluation import evaluate
from demo.appliance_server import connect
from demo.builder import build, logins
from tenancy.models import Account


class Command(BaseCommand):
    help = 'Build the "Demo MSP" account (idempotent), evaluate it once, and print the demo logins.'

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="Only when the database has no account yet.")

    def handle(self, *args, if_empty=False, **options):
        if if_empty and Account.objects.filter(is_demo=False).exists():
            self.stdout.write("The database already holds accounts; no demo loaded.")
            return
        account = build()
        connect(account)  # issue 5: the demo appliances served by demo/appliance_server.py
        run = evaluate(account, timezone.now())
        self.stdout.write(f"Demo account {account.name!r}: {run.raised} new alerts raised.")
        for role, email, password in logins():
            self.stdout.write(f"{role}: {email} / {password}")
