"""Writing lifecycle events, and the signal the outbox hangs on.

`alerts` never imports `notifications`: the outbox connects to `events_recorded` at
start-up, and every event is sent to it inside the transaction that wrote it, so the
event and its deliveries commit or roll back together (R13.5).
"""

from django.dispatch import Signal

from alerts.models import Alert, AlertEvent

# Sent with `events` (the AlertEvent rows just written) inside their transaction; a receiver
# that raises rolls the events back with it.
events_recorded = Signal()


def record(alerts: list[Alert], type_: str, at, actor=None, reason: str = "", fan_out: bool = True) -> list[AlertEvent]:
    """Append one event per alert and send them to `events_recorded` (unless the event is history
    only, `fan_out=False`: R15.1 a move). Call inside a transaction."""
    if not alerts:
        return []
    events = AlertEvent.objects.bulk_create(
        [
            AlertEvent(account_id=alert.account_id, alert=alert, type=type_, at=at, actor=actor, reason=reason)
            for alert in alerts
        ]
    )
    if fan_out:
        events_recorded.send(sender=AlertEvent, events=events)
    return events
