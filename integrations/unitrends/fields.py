"""What a Unitrends appliance integration is configured with.

Options set through the API (not the form): `organization` (where a new appliance goes),
`appliance` (filled on the first sync) and `verify_tls`.
"""

CREDENTIALS = ("username", "password")
