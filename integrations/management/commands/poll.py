from django.core.management.base import BaseCommand, CommandError

from integrations.models import Integration
from integrations.pollers import poll


class Command(BaseCommand):
    help = "Sync from external systems now."

    def add_arguments(self, parser):
        parser.add_argument("--integration", type=int)

    def handle(self, *args, integration=None, **options):
        integrations = Integration.objects.filter(enabled=True)
        if integration is not None:
            integrations = Integration.objects.filter(pk=integration)
            if not integrations.exists():
                raise CommandError(f"No integration {integration}.")
        if not integrations.exists():
            self.stdout.write("No integrations to poll.")
        for item in integrations:
            self.stdout.write(poll(item))
