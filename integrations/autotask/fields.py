"""The credentials of an Autotask integration (options: integrations.psa.fields)."""

CREDENTIALS = ("username", "secret", "integration_code")
