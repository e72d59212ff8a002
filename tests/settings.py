"""The test suite's settings: the production settings, plus loopback for the vendor fakes.

The fakes (tests/fakes/) are real HTTP servers on 127.0.0.1, so the outbound guard
(integrations/url_guard.py) must let the suite reach loopback. That opening lives only
here, in code the suite selects (pyproject.toml, and the worker processes it starts
inherit DJANGO_SETTINGS_MODULE): no environment variable can turn it on in production.
"""

from uniview.settings import *  # noqa: F403
from uniview.settings import INSTALLED_APPS

# The suite tests the demo too (seed_demo, its appliances); production does not install it.
INSTALLED_APPS = [*INSTALLED_APPS, "demo"]

OUTBOUND_ALLOW_LOOPBACK = True
