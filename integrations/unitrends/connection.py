"""The Unitrends connection test: sign in and read the appliance's own system."""

from integrations import http
from integrations.connection import ConnectionFailed
from integrations.unitrends.client import UnitrendsClient


def test_connection(integration) -> str:
    client = UnitrendsClient.for_integration(integration, retries=0)
    try:
        system = client.local_system()
    except http.VendorError as exc:
        raise ConnectionFailed(str(exc)) from exc
    return f"Connected to {system.get('name', 'the appliance')} (version {system.get('version') or 'unknown'})."
