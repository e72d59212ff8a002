"""The credentials of a Vorex integration: Kaseya BMS's (options: integrations.psa.fields)."""

from integrations.bms.fields import CREDENTIALS

__all__ = ["CREDENTIALS"]
