"""Testing an integration's connection, and the checks a kind runs before a save.

The kind's row in `integrations.kinds` names both: its `connection_test(integration) -> str`
(a one-line success message, or raises `ConnectionFailed(message)`), which the API's
`integrations/{id}/test/` and the dashboard's "Test connection" call; and its
`save_check(unsaved_integration)`, which raises to refuse a save.
"""

from integrations import kinds


class ConnectionFailed(Exception):
    """The system could not be reached or refused us; the message says why, for a person."""


def test_connection(integration) -> tuple[bool, str]:
    kind = kinds.get(integration.kind)
    if kind is None or not kind.connection_test:
        return False, f"Connection tests for {integration.get_kind_display()} are not available yet."
    try:
        return True, kinds.resolve(kind.connection_test)(integration)
    except ConnectionFailed as exc:
        return False, str(exc)


def save_check(probe) -> None:
    """The kind's save check, if it has one (raises to refuse the save)."""
    kind = kinds.get(probe.kind)
    if kind is not None and kind.save_check:
        kinds.resolve(kind.save_check)(probe)
