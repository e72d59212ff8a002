"""R15.3: a poll that suddenly answers nothing where it had data is suspicious.

The rows it would remove are kept and the integration shows the warning; only a poll
at least an hour after the first empty answer that still answers nothing removes them.
A poll that answers data again clears the warning.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta

from django.utils.dateparse import parse_datetime

CONFIRM_AFTER = timedelta(hours=1)
_polled = ContextVar("polled_integration", default=None)


@contextmanager
def polling(integration):
    """The integration a poll's steps hold their suspicious answers on (an appliance sync's steps
    see only the appliance)."""
    token = _polled.set(integration)
    try:
        yield
    finally:
        _polled.reset(token)


def polled_integration():
    return _polled.get()


def hold(integration, now, empties: dict) -> set:
    """`empties` maps a scope (what answered empty) to (sentence, ids of the rows it would
    remove). Answers the ids to keep for now, and records the warnings on `integration`."""
    before = integration.suspicious_polls or {}
    after, keep = {}, set()
    for scope, (detail, ids) in empties.items():
        since = parse_datetime((before.get(scope) or {}).get("since") or "") or now
        if now - since >= CONFIRM_AFTER:
            continue  # a second poll, an hour or more later, agrees: the rows go
        after[scope] = {"since": since.isoformat(), "detail": detail}
        keep |= set(ids)
    if after != before:
        integration.suspicious_polls = after
        integration.save(update_fields=["suspicious_polls"])
    return keep
