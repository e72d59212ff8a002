"""One evaluation of every rule for an account at `now` (R14), a preview of one (R15.5),
and evaluations asked for on demand, which are never silently skipped (R15.6).

Full or by due time. A full evaluation runs every rule over every subject; it is what a
person asks for and what `manage.py evaluate` runs. Beat's evaluation runs by due time:
each rule runs only over the subjects of its type (assets, appliances, SaaS sources, Azure
assets) whose next moment has come or that changed (inventory.NextCheck, an index range per
account and type: alerts/due.py, inventory/due.py), and the reconciler compares only those
subjects' alerts. Both write each evaluated subject's next moment, so both give the same
alerts (tests/test_due_equivalence.py). A cycle with nothing due
and nothing to raise or resolve writes nothing, not even its Evaluation row.

A full evaluation of an account with many organizations can be split into Celery tasks,
one per batch of organizations (`evaluate_shard`): they hold the account's lock in shared
mode, so they run side by side on several workers while a due-time or full run waits,
and each takes its own batch's lock.

On-demand requests: a run that finds another holding the account's lock leaves a
request row (its `generation` counts requests). Every run reads the generation when
it takes the lock and, in the same transaction, deletes the row only if nothing newer
arrived; after it commits, a row still there means someone asked while it ran, and
one more run is queued. Many requests during one run coalesce into that one run.
"""

import gc
import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from alerts import lifecycle, maintenance
from alerts.categories import KINDS
from alerts.due import (
    SUBJECTS,
    ahead_if_large,
    gone_silent,
    next_moments,
    reconcile_due,
    subject_of,
)
from alerts.models import Evaluation, EvaluationRequest
from alerts.reconciler import Outcome, diff, reconcile
from alerts.rules import RULES
from alerts.set_writes import batched
from inventory import due
from inventory.models import Asset
from tenancy import locks

log = logging.getLogger(__name__)

# A `now` this close to the clock is the present: a script that sends its own clock
# time evaluates for real rather than previewing (R15.5).
PRESENT_WITHIN = timedelta(minutes=1)
MOMENTS_BATCH = 20000  # assets whose next moments are computed and written together


def is_present(now) -> bool:
    return abs(now - timezone.now()) <= PRESENT_WITHIN


def evaluate(account, now) -> Evaluation:
    """Evaluate every rule over every subject and write (raise, resolve, fan out). At a
    `now` in the past only for tests, demos and recovery (`evaluate --commit`); callers
    answering people preview."""
    started, present = time.monotonic(), is_present(now)  # decided once: a long run stays at the present
    with transaction.atomic():
        if not locks.try_xact_lock(locks.EVALUATION, account.pk):
            return Evaluation.objects.create(account=account, now=now, skipped=True)
        # A run at the present serves every request made before it took the lock (R15.6);
        # a replay committed at another time (recovery) serves none.
        requests = EvaluationRequest.objects.filter(account=account)
        seen = requests.values_list("generation", flat=True).first() if present else None
        # Only the due assets get a new next moment: every other asset's still holds, since
        # nothing it depends on changed (a change makes it due), so the full run's answer
        # for it is the one its moment was computed from. A replay at another time leaves
        # every row due (`_run`): only then are all of them read, and only their ids.
        if present:
            read = {s: due.due_rows(s, account, now) for s in SUBJECTS}
        else:
            read = {s: due.all_rows(s, account) for s in SUBJECTS}
        outcome = _run(account, now, read, present, everything=True)
        if seen is not None:
            requests.filter(generation__lte=seen).delete()
    transaction.on_commit(lambda: _queue_if_asked(account.pk))
    return _recorded(account, now, started, outcome)


def evaluate_due(account, now) -> Evaluation:
    """Beat's evaluation: the conditional alarms of the assets due at `now` or changed, the
    other rules whole. Serves no on-demand request (those ask for a full one, R15.6)."""
    started, present = time.monotonic(), is_present(now)
    with transaction.atomic():
        if not locks.try_xact_lock(locks.EVALUATION, account.pk):
            return Evaluation.objects.create(account=account, now=now, skipped=True)
        read = {s: due.due_rows(s, account, now) for s in SUBJECTS}
        stale = gone_silent(account, now) - read["asset"].keys()
        if stale:
            read["asset"] |= due.all_assets(account, asset_ids=stale)
        outcome = _run(account, now, read, present)
    if not any(read.values()) and not outcome.raised and not outcome.resolved:
        return Evaluation(account=account, now=now, kept=outcome.kept)  # idle: nothing written
    return _recorded(account, now, started, outcome)


def evaluate_shard(account, now, organization_ids) -> Evaluation:
    """One batch of a split full evaluation: the conditional alarms of these organizations'
    assets; `organization_ids` None: every other rule, and the asset alarms of no organization."""
    started, present = time.monotonic(), is_present(now)
    key = min(organization_ids) if organization_ids else -account.pk
    with transaction.atomic():
        if not (locks.try_xact_lock_shared(locks.EVALUATION, account.pk)
                and locks.try_xact_lock(locks.EVALUATION_SHARD, key)):
            return Evaluation.objects.create(account=account, now=now, skipped=True)
        if organization_ids is None:
            outcome = _run(account, now, {"asset": {}}, present, settle=False)  # the asset shards may still be running
        else:
            outcome = _run(account, now, {"asset": due.all_assets(account, organization_ids)}, present,
                           other_rules=False)
    return _recorded(account, now, started, outcome)


def _run(account, now, read, present, everything=False, other_rules=True, settle=True) -> Outcome:
    with _cyclic_gc_paused():
        return _run_rules(account, now, read, present, everything, other_rules, settle)


@contextmanager
def _cyclic_gc_paused():
    """Python's cycle collector off for the run, on again after it (as it was before). A bad day
    holds a batch's alarms, events and deliveries alive at once: each full collection walked all
    of them, some thirty times in a raise of 100,000, which made half of the evaluating process's
    CPU (35.0 s vs 24.5 s for the raise, bench/RESULTS_raising.md). What a run drops is freed
    by reference counting; a cycle it leaves waits for the next collection."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _run_rules(account, now, read, present, everything, other_rules, settle) -> Outcome:
    """Reconcile the rules. `read` ({subject type: {id: the token of its moment as read}}): a rule of a
    type in it runs over those rows only (alerts/due.py); the other rules whole unless told
    not to; `everything`: every rule whole. Then, at the present, write the next moment of
    each row of `read` (unless it was marked meanwhile: compare-and-swap); a replay at
    another time leaves them due."""
    outcome = Outcome()
    for kinds, conditions in RULES:
        subject = subject_of(kinds)
        if everything or (other_rules and subject not in read):
            wanted = ahead_if_large(subject, conditions(account, now),
                                    lambda: Asset.objects.filter(account=account).count())  # one index read
            outcome.add(reconcile(account, kinds, wanted, now))
        elif subject in read:
            outcome.add(reconcile_due(account, now, kinds, conditions, subject, list(read[subject])))
    if other_rules and settle:
        maintenance.settle(account, now)  # R16.2: what cleared inside a window that is over
    for subject, rows in read.items():
        if rows and present:
            for batch in batched(sorted(rows), MOMENTS_BATCH):  # ascending: neighbours in the indexes
                part = {pk: rows[pk] for pk in batch}
                due.write_next_checks(part, next_moments(subject, account, now, batch), subject=subject)
        elif rows:  # a replay at another time (R15.5 --commit): its moments are not the present's
            due.leave_due(list(rows), subject)
    return outcome



def _recorded(account, now, started, outcome) -> Evaluation:
    return Evaluation.objects.create(
        account=account,
        now=now,
        duration_ms=int((time.monotonic() - started) * 1000),
        raised=outcome.raised,
        resolved=outcome.resolved,
        kept=outcome.kept,
    )


def evaluate_on_demand(account, now=None) -> Evaluation:
    """R15.6: evaluate now; when another run holds the account, one more runs after it."""
    run = evaluate(account, now or timezone.now())
    if run.skipped:
        _ask(account)
        transaction.on_commit(lambda: _queue(account.pk))
    return run


def _ask(account) -> None:
    now = timezone.now()
    with transaction.atomic():
        bump = {"generation": F("generation") + 1, "requested_at": now}
        if EvaluationRequest.objects.filter(account=account).update(**bump):
            return
        try:
            with transaction.atomic():
                EvaluationRequest.objects.create(account=account, generation=1, requested_at=now)
        except IntegrityError:  # another request created it a moment ago
            EvaluationRequest.objects.filter(account=account).update(**bump)


def _queue_if_asked(account_id) -> None:
    if EvaluationRequest.objects.filter(account_id=account_id).exists():
        _queue(account_id)


def _queue(account_id) -> None:
    from alerts.tasks import evaluate_requested  # the task module imports this one

    try:
        evaluate_requested.delay(account_id)
    except Exception:  # broker down: the request row stays, and beat's next run serves it
        log.warning("could not queue the evaluation asked for account %s; beat's next run will serve it",
                    account_id, exc_info=True)


@dataclass
class Preview:
    """What an evaluation at `now` would raise and resolve; nothing written (R15.5)."""

    now: object
    would_raise: list = field(default_factory=list)
    would_resolve: list = field(default_factory=list)
    kept: int = 0

    @property
    def raised(self) -> int:
        return len(self.would_raise)

    @property
    def resolved(self) -> int:
        return len(self.would_resolve)


def preview(account, now) -> Preview:
    """Run every rule and the reconciler's diff at `now` without applying it. The
    transaction is rolled back as well, so not even a default settings row is kept."""
    answer = Preview(now=now)
    with transaction.atomic():
        for kinds, conditions in RULES:
            planned = diff(account, kinds, list(conditions(account, now)), now)
            answer.would_raise += [_item(c.kind, c.organization_id, c.subject, c.title) for c in planned.raise_]
            answer.would_resolve += [
                {**_item(a.kind, a.organization_id, a.subject, a.title), "alert": a.pk, "reason": reason}
                for reason, alerts in planned.resolve for a in alerts
            ]
            answer.kept += len(planned.kept)
        names = lifecycle.organization_names(i["organization"] for i in answer.would_raise + answer.would_resolve)
        for item in answer.would_raise + answer.would_resolve:
            item["organization_name"] = names.get(item["organization"], "")
        transaction.set_rollback(True)
    return answer


def _item(kind, organization_id, subject, title) -> dict:
    return {"kind": kind, "kind_label": KINDS.get(kind, kind), "organization": organization_id,
            "subject": subject, "title": title}
