"""Writing lifecycle events, and the hook the outbox hangs on.

`alerts` never imports `notifications`: the outbox registers a listener here at
start-up, and every event is handed to it inside the transaction that wrote it,
so the event and its deliveries commit or roll back together (R13.5).
"""

from collections.abc import Callable

from alerts.models import Alert, AlertEvent

_listeners: list[Callable[[list[AlertEvent]], None]] = []


def on_events(listener: Callable[[list[AlertEvent]], None]) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def record(alerts: list[Alert], type_: str, at, actor=None, reason: str = "", fan_out: bool = True) -> list[AlertEvent]:
    """Append one event per alert and hand them to the listeners (unless the event is history
    only, `fan_out=False`: R15.1 a move). Call inside a transaction."""
    if not alerts:
        return []
    events = AlertEvent.objects.bulk_create(
        [
            AlertEvent(account_id=alert.account_id, alert=alert, type=type_, at=at, actor=actor, reason=reason)
            for alert in alerts
        ]
    )
    for listener in _listeners if fan_out else ():
        listener(events)
    return events
