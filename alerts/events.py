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
from tenancy.arrays import postgresql

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
    """One INSERT … RETURNING for the list. PostgreSQL makes each event's uuid (parsing tens of
    thousands of them back was a tenth of a raise's CPU): an event comes back without it, and
    reading `event.uuid` loads it (the receivers read the alert and the id only)."""
    meta = AlertEvent._meta
    by_database = postgresql()
    if by_database:
        source, params = rows_source([("account_id", "bigint"), ("alert_id", "bigint")],
                                     [(alert.account_id, alert.pk) for alert in alerts])
        key = "gen_random_uuid()"
    else:
        source, params = rows_source([("uuid", "uuid"), ("account_id", "bigint"), ("alert_id", "bigint")],
                                     [(uuid.uuid4().hex, alert.account_id, alert.pk) for alert in alerts])
        key = "v.uuid"
    at_value = meta.get_field("at").get_db_prep_value(at, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {meta.db_table} (uuid, account_id, alert_id, type, at, actor_id, reason) "
            f"SELECT {key}, v.account_id, v.alert_id, %s, %s, %s, %s FROM {source} RETURNING id, alert_id"
            + ("" if by_database else ", uuid"),
            [type_, at_value, actor_id, reason, *params],
        )
        written = sorted(cursor.fetchall())
    by_pk = {alert.pk: alert for alert in alerts}
    to_python = meta.get_field("uuid").to_python
    events, alias = [], connection.alias
    for pk, alert_id, *rest in written:
        alert = by_pk[alert_id]
        values = {"id": pk, "account_id": alert.account_id, "alert_id": alert_id, "type": type_, "at": at,
                  "actor_id": actor_id, "reason": reason}
        if rest:
            values["uuid"] = to_python(rest[0])
        event = loaded(AlertEvent, values, alias)
        event._state.fields_cache["alert"] = alert
        events.append(event)
    return events
