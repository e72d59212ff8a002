"""What each integration kind can do, registered by the vendor modules as they land.

- `CONNECTION_TESTS[kind](integration) -> str`: a one-line success message, or
  raises `ConnectionFailed(message)`; the API's `integrations/{id}/test/` and
  the dashboard's "Test connection" call it.
- `integrations.pollers.POLLERS[kind](integration, now) -> str`: sync now.
- `CREDENTIAL_FIELDS[kind]`: the credential names a kind needs (validated on write).
"""

from collections.abc import Callable


class ConnectionFailed(Exception):
    """The system could not be reached or refused us; the message says why, for a person."""


CONNECTION_TESTS: dict[str, Callable] = {}
CREDENTIAL_FIELDS: dict[str, tuple[str, ...]] = {}
# `SAVE_CHECKS[kind](unsaved_integration)` raises ConnectionFailed to refuse a save (e.g. R13.4's VSA 10).
SAVE_CHECKS: dict[str, Callable] = {}


def test_connection(integration) -> tuple[bool, str]:
    tester = CONNECTION_TESTS.get(integration.kind)
    if tester is None:
        return False, f"Connection tests for {integration.get_kind_display()} are not available yet."
    try:
        return True, tester(integration)
    except ConnectionFailed as exc:
        return False, str(exc)
