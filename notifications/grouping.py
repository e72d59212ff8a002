"""What noise control (R17, alerts/storms.py) leaves each channel, and what a grouped
notification lists.

- An alert a vendor incident holds (`held_by`) fans out nothing (R17.2).
- A storm's member (`storm`) sends no ticket and no email of its own: the storm alert's
  ticket and email list it (R17.1). Webhooks and VSA alarms still get each member.
- A storm's `updated` event (members joined or resolved) is a note on its ticket only.
"""

from alerts.models import Alert, AlertEvent, AlertState
from integrations.psa.connection import psa_kinds
from notifications.models import Delivery

LISTED = 200  # alerts a grouped ticket or email names one by one; the rest are counted


def grouped_channels() -> set[str]:
    return {"email", *psa_kinds()}


def events_for(channel_kind, events) -> list:
    return chooser(events)(channel_kind)


def chooser(events):
    """`events_for` over one list for each channel kind in turn: the choice depends only on
    whether the channel is grouped and whether it is a PSA, so each of those answers is
    worked out once (a bad day sends thousands of events past every channel)."""
    grouped_kinds, psa = grouped_channels(), set(psa_kinds())
    answers = {}

    def choose(channel_kind):
        key = (channel_kind in grouped_kinds, channel_kind in psa)
        if key not in answers:
            answers[key] = _chosen(events, *key)
        return answers[key]

    return choose


def _chosen(events, grouped, psa) -> list:
    chosen = []
    for event in events:
        alert = event.alert
        if alert.held_by_id is not None:
            continue
        if event.type == AlertEvent.Type.UPDATED:
            if psa:
                chosen.append(event)
            continue
        if grouped and alert.storm_id is not None:
            continue
        chosen.append(event)
    return chosen


def withdraw(sender, alert_ids, **kwargs):
    """Receiver of `alerts.events.grouped`: alerts that joined a storm after their raise was
    written in this transaction lose their own tickets and emails (pending, never sent: the
    transaction has not committed, so no worker has seen them)."""
    Delivery.objects.filter(
        event__alert_id__in=alert_ids, event__type=AlertEvent.Type.RAISED, channel__in=grouped_channels(),
        state=Delivery.State.PENDING, attempts=0,
    ).delete()


def members(alert) -> tuple[list[str], int]:
    """A storm alert's members as lines a person reads (open ones first, then the rest), up
    to LISTED, and how many there are in all."""
    if alert.kind != "alert_storm":
        return [], 0
    rows = Alert.objects.filter(storm=alert).only("id", "title", "state")
    total = rows.count()
    shown = list(rows.filter(state=AlertState.OPEN).order_by("id")[:LISTED])
    if len(shown) < LISTED:
        shown += list(rows.exclude(state=AlertState.OPEN).order_by("id")[:LISTED - len(shown)])
    lines = []
    for member in shown:
        state = "" if member.state == AlertState.OPEN else f" — {member.get_state_display().lower()}"
        lines.append(f"{member.ref} {member.title}{state}")
    if total > LISTED:
        lines.append(f"… and {total - LISTED} more (see the alert list in uniview)")
    return lines, total
