"""The credentials of a Datto Portal integration (api.datto.com keys)."""

CREDENTIALS = ("public_key", "secret_key")
