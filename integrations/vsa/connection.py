"""The Kaseya VSA 9 connection test, also its save check (R13.4: a VSA 10 is refused on save)."""

from integrations.vsa.client import VsaClient


def test_connection(integration) -> str:
    return VsaClient(integration).check()
