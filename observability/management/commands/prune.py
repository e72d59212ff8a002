from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from observability import retention


class Command(BaseCommand):
    help = (
        "Delete rows older than their retention age (RETENTION_*_DAYS), as beat does once a day. "
        "--dry-run says what would go and what stays, and deletes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count what would go; delete nothing.")
        parser.add_argument("--now", help="ISO 8601 time with offset the ages count back from (default: now).")

    def handle(self, *args, dry_run=False, now=None, **options):
        at = timezone.now()
        if now:
            at = parse_datetime(now)
            if at is None or at.tzinfo is None:
                raise CommandError("--now must be an ISO 8601 time with an offset.")
        if dry_run:
            self.stdout.write("Dry run: nothing is deleted.")
        for pruned in retention.prune(at, dry_run=dry_run):
            self.stdout.write(pruned.sentence(dry_run))
