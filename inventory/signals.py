"""Signals inventory's writers send, for the rooms above it to act on without being imported.

- `evaluation_wanted(account, now)`: new or changed inventory (a poll, a pushed status, a
  mapping) should be evaluated now (R14.1; R15.6: queued when a run holds the account).
  `alerts` listens.
- `job_cancel_requested(job)`: R12.2, send the cancel of a running job to its appliance.
  The appliance's integration listens; its answer is the job as confirmed, or it raises
  `inventory.asset_detail.CancelFailed` with a message for people.
"""

from django.dispatch import Signal

evaluation_wanted = Signal()
job_cancel_requested = Signal()


def ask_evaluation(account, now=None) -> None:
    """Evaluate `account` now (at `now`, else the current time), through whoever listens."""
    evaluation_wanted.send(sender=None, account=account, now=now)
