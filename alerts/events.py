"""Writing lifecycle events, and the signal the outbox hangs on.

`alerts` never imports `notifications`: the outbox connects to `events_recorded` at
start-up, and every event is sent to it inside the transaction that wrote it, so the
event and its deliveries commit or roll back together (R13.5).
"""

import uuid

from django.db import connection
from django.dispatch import Signal

from alerts.models import Alert, AlertEvent
from alerts.set_writes import loaded, rows_source

# Sent with `events` (the AlertEvent rows just written) inside their transaction; a receiver
# that raises rolls the events back with it.
events_recorded = Signal()
# R17.1: sent with `alert_ids` whose raised events were written in this transaction and that
# have just joined a storm: the outbox withdraws their own tickets and emails (not sent yet).
grouped = Signal()


def record(alerts: list[Alert], type_: str, at, actor=None, reason: str = "", fan_out: bool = True) -> list[AlertEvent]:
    """Append one event per alert and send them to `events_recorded` (unless the event is history
    only, `fan_out=False`: R15.1 a move). Call inside a transaction.

    One INSERT for the whole list; each event comes back with its alert attached, so the
    receivers read `event.alert` without a query."""
    if not alerts:
        return []
    events = _insert(alerts, type_, at, actor.pk if actor is not None else None, reason)
    if fan_out:
        events_recorded.send(sender=AlertEvent, events=events)
    return events


def _insert(alerts, type_, at, actor_id, reason) -> list[AlertEvent]:
    meta = AlertEvent._meta
    keyed = {uuid.uuid4(): alert for alert in alerts}
    spell = str if connection.vendor == "postgresql" else (lambda key: key.hex)
    source, params = rows_source(
        [("uuid", "uuid"), ("account_id", "bigint"), ("alert_id", "bigint")],
        [(spell(key), alert.account_id, alert.pk) for key, alert in keyed.items()],
    )
    at_value = meta.get_field("at").get_db_prep_value(at, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {meta.db_table} (uuid, account_id, alert_id, type, at, actor_id, reason) "
            f"SELECT v.uuid, v.account_id, v.alert_id, %s, %s, %s, %s FROM {source} RETURNING id, uuid",
            [type_, at_value, actor_id, reason, *params],
        )
        written = cursor.fetchall()
    to_python = meta.get_field("uuid").to_python
    events, alias = [], connection.alias
    for pk, written_uuid in sorted(written):
        key = to_python(written_uuid)
        alert = keyed[key]
        event = loaded(AlertEvent, {"id": pk, "uuid": key, "account_id": alert.account_id, "alert_id": alert.pk,
                                    "type": type_, "at": at, "actor_id": actor_id, "reason": reason}, alias)
        event._state.fields_cache["alert"] = alert
        events.append(event)
    return events
