"""Vorex tickets (R13.3): the Kaseya BMS API on Vorex's host."""

from integrations.bms.client import BmsClient


class VorexClient(BmsClient):
    default_host = "https://api.vorexlogin.com"
    label = "Vorex"
