"""The Spanning connection test: one read of the tenant, the users or the orgs."""

from integrations.connection import ConnectionFailed
from integrations.http import VendorError
from integrations.spanning.poller import client_for


def test_connection(integration) -> str:
    try:
        client = client_for(integration)
        if integration.kind == "spanning_m365":
            tenant = client.tenant()
            return f"Connected to Spanning Microsoft 365: {tenant.get('licenses')} licenses."
        if integration.kind == "spanning_gws":
            return f"Connected to Spanning Google Workspace: {len(client.users())} user(s)."
        return f"Connected to Spanning Salesforce: {len(client.orgs())} org(s)."
    except VendorError as exc:
        raise ConnectionFailed(str(exc)) from exc
