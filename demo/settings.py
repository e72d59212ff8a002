"""Settings of the local demo (scripts/run.sh): its Unitrends appliances are a fake server
on 127.0.0.1, so the outbound guard lets this process reach loopback. Production runs
uniview.settings, where no environment variable can open loopback."""

from uniview.settings import *  # noqa: F403

OUTBOUND_ALLOW_LOOPBACK = True
