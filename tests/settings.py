"""The test suite's settings: the production settings, plus loopback for the vendor fakes.

The fakes (the `fakes/` kit) are real HTTP servers on 127.0.0.1, so the outbound guard
(integrations/url_guard.py) must let the suite reach loopback. That opening lives only
here, in code the suite selects (pyproject.toml, and the worker processes it starts
inherit DJANGO_SETTINGS_MODULE): no environment variable can turn it on in production.

Under pytest-xdist (`-n N`) every worker process gets its own Redis database and its own
var directory (pytest-django already gives it its own test database): `flush_broker()` and
the Celery workers a test starts then touch only that worker's queue. The choice is written
back to the environment, so the Celery worker processes a test starts inherit it as they are.
"""

import os
from urllib.parse import urlsplit, urlunsplit


def _isolate_xdist_worker():
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", … only under `pytest -n`
    if not worker or os.environ.get("UNIVIEW_TEST_WORKER") == worker:
        return  # not under xdist, or already done (a Celery worker started by a test inherits it)
    index, count = int(worker[2:]), int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if broker.startswith("redis://"):
        parts = urlsplit(broker)
        base = int(parts.path.strip("/") or 0)
        db = base + index if base + count - 1 <= 15 else base - index  # stay within Redis's 0–15
        if not 0 <= db <= 15:
            raise RuntimeError(f"no Redis database left for xdist worker {worker} from {broker}")
        os.environ["CELERY_BROKER_URL"] = urlunsplit(parts._replace(path=f"/{db}"))
    if os.environ.get("UNIVIEW_VAR_DIR"):
        var_dir = os.path.join(os.environ["UNIVIEW_VAR_DIR"], worker)
        os.makedirs(var_dir, exist_ok=True)
        os.environ["UNIVIEW_VAR_DIR"] = var_dir
    os.environ["UNIVIEW_TEST_WORKER"] = worker


_isolate_xdist_worker()

from uniview.settings import *  # noqa: E402, F403
from uniview.settings import INSTALLED_APPS  # noqa: E402

# The suite tests the demo too (seed_demo, its appliances); production does not install it.
INSTALLED_APPS = [*INSTALLED_APPS, "demo"]

OUTBOUND_ALLOW_LOOPBACK = True
