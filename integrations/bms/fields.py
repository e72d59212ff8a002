"""The credentials of a Kaseya BMS integration (options: integrations.psa.fields)."""

CREDENTIALS = ("username", "password", "tenant")
