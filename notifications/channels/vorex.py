"""Vorex tickets (R13.3): the Kaseya BMS API on Vorex's host."""

from notifications.channels.bms import BmsClient
from notifications.psa import PsaChannel, connection_test

CREDENTIALS = ("username", "password", "tenant")


class VorexClient(BmsClient):
    default_host = "https://api.vorexlogin.com"
    label = "Vorex"


class VorexChannel(PsaChannel):
    kind = "vorex"
    client_class = VorexClient


def test_connection(integration) -> str:
    return connection_test(VorexClient, integration)
