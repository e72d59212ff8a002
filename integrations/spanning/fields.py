"""The credentials of each Spanning kind (option `region`: us, eu, ap, ca, uk)."""

M365_CREDENTIALS = ("admin_email", "api_token")
GWS_CREDENTIALS = ("domain", "access_token")
SALESFORCE_CREDENTIALS = ("admin_email", "api_token")
