"""The Datto connection test: the DBMA clients the keys can see."""

from integrations.connection import ConnectionFailed
from integrations.datto.poller import client_for
from integrations.http import VendorError


def test_connection(integration) -> str:
    try:
        return f"Connected to Datto: {len(client_for(integration).dbma_clients())} client(s)."
    except VendorError as exc:
        raise ConnectionFailed(str(exc)) from exc
