"""Settings of the local demo (scripts/run.sh, `make run`): production's, plus the demo.

- The demo app (its `seed_demo` command and its tasks) and its beat entry exist only here:
  production (uniview.settings) neither installs the demo nor schedules its task.
- Its Unitrends appliances are a fake server on 127.0.0.1, so the outbound guard lets this
  process reach loopback. Production runs uniview.settings, where no environment variable
  can open loopback.
"""

from uniview.settings import *  # noqa: F403
from uniview.settings import CELERY_BEAT_SCHEDULE, INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "demo"]

CELERY_BEAT_SCHEDULE = {
    **CELERY_BEAT_SCHEDULE,
    # The demo account's appliances check in while `make run` is up.
    "demo-heartbeat": {"task": "demo.tasks.heartbeat", "schedule": 60.0},
}

OUTBOUND_ALLOW_LOOPBACK = True
