from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from alerts.evaluation import evaluate, evaluate_due, evaluate_on_demand, is_present, preview
from tenancy.models import Account


class Command(BaseCommand):
    help = (
        "Evaluate every rule over every subject now (a full evaluation). At another --now it previews "
        "what would be raised and resolved and writes nothing, unless --commit (R15.5). --due evaluates "
        "only what is due, as beat does; --split queues the full evaluation as one task per batch of "
        "organizations, for several workers."
    )

    def add_arguments(self, parser):
        parser.add_argument("--account", type=int)
        parser.add_argument("--now", help="ISO 8601 time with offset, e.g. 2026-11-02T08:00:00+00:00")
        parser.add_argument(
            "--commit", action="store_true",
            help="Write at a --now other than the present: live through a replayed timeline (tests, demos, recovery).",
        )
        parser.add_argument("--due", action="store_true", help="Only the assets due or changed (beat's cycle).")
        parser.add_argument("--split", action="store_true", help="Queue one task per batch of organizations.")

    def handle(self, *args, account=None, now=None, commit=False, due=False, split=False, **options):
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
            if split:
                from alerts.tasks import evaluate_split  # queues Celery tasks

                self.stdout.write(f"{acct.name}: queued {evaluate_split(acct.pk)} tasks")
            elif due and is_present(at):
                self._run(acct, evaluate_due(acct, at), "beat's next cycle runs it")
            elif is_present(at):
                self._run(acct, evaluate_on_demand(acct, at), "queued to run after it")
            elif commit:
                self._run(acct, evaluate(acct, at), "not run")
            else:
                self._preview(acct, at)

    def _run(self, account, run, when_skipped):
        state = f"skipped (another run holds the lock), {when_skipped}" if run.skipped else (
            f"raised {run.raised}, resolved {run.resolved}, kept {run.kept} in {run.duration_ms} ms"
        )
        self.stdout.write(f"{account.name}: {state}")

    def _preview(self, account, at):
        answer = preview(account, at)
        self.stdout.write(
            f"{account.name}: preview at {at:%Y-%m-%d %H:%M %Z}, nothing written — would raise {answer.raised}, "
            f"resolve {answer.resolved}, keep {answer.kept}"
        )
        for verb, items in (("raise", answer.would_raise), ("resolve", answer.would_resolve)):
            for item in items:
                where = item["organization_name"] or "the account"
                self.stdout.write(f"  would {verb}: {item['kind_label']} — {where} — {item['title']}")
