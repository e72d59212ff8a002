"""One evaluation of every rule for an account at `now` (R14)."""

import time
import zlib

from django.db import connection, transaction

from alerts.models import Evaluation
from alerts.reconciler import Outcome, reconcile
from alerts.rules import RULES


def _try_lock(account) -> bool:
    """Invariant 6: overlapping runs for one account are serialised; the loser returns at once."""
    if connection.vendor != "postgresql":
        return True  # SQLite: IMMEDIATE transactions already serialise writers.
    key = zlib.crc32(f"uniview:evaluate:{account.pk}".encode())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [key])
        return cursor.fetchone()[0]


def evaluate(account, now) -> Evaluation:
    started = time.monotonic()
    outcome = Outcome()
    with transaction.atomic():
        if not _try_lock(account):
            return Evaluation.objects.create(account=account, now=now, skipped=True)
        for kinds, conditions in RULES:
            outcome.add(reconcile(account, kinds, list(conditions(account, now)), now))
    return Evaluation.objects.create(
        account=account,
        now=now,
        duration_ms=int((time.monotonic() - started) * 1000),
        raised=outcome.raised,
        resolved=outcome.resolved,
        kept=outcome.kept,
    )
