"""The credentials of a ConnectWise Manage integration (options: integrations.psa.fields)."""

CREDENTIALS = ("company_id", "public_key", "private_key", "client_id")
