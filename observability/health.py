"""`/healthz`: is the database answering, is the broker answering, is beat still running,
can the credentials key read the stored credentials?

200 with every check when all pass; 503 naming the part that failed, so a load
balancer and a person reading the body both know what to fix. No secrets, no
tenant data: the answer is the same for anyone who asks.
"""

import time
from pathlib import Path
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from observability.tasklog import BEAT_HEARTBEAT

STARTED = time.monotonic()


def check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True}


def check_broker() -> dict:
    url = settings.CELERY_BROKER_URL
    scheme = urlsplit(url).scheme
    if scheme in ("redis", "rediss"):
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            client.ping()
        finally:
            client.close()
        return {"ok": True}
    if scheme == "filesystem":
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        return {"ok": folder.is_dir()}
    return {"ok": True, "note": f"{scheme} broker not probed"}


def beat_max_age() -> int:
    return getattr(settings, "HEALTHZ_BEAT_MAX_AGE_SECONDS", 3 * settings.SWEEP_INTERVAL_SECONDS + 60)


def check_beat() -> dict:
    from observability.models import Heartbeat

    limit = beat_max_age()
    last = Heartbeat.objects.filter(name=BEAT_HEARTBEAT).values_list("at", flat=True).first()
    if last is None:
        # A fresh start has not swept yet: give beat one limit's grace before failing.
        waited = time.monotonic() - STARTED
        return {"ok": waited < limit, "age_seconds": None, "max_age_seconds": limit}
    age = (timezone.now() - last).total_seconds()
    return {"ok": age <= limit, "age_seconds": round(age, 1), "max_age_seconds": limit}


def check_credentials() -> dict:
    """FIELD_ENCRYPTION_KEY still reads every stored secret — integration credentials, webhook
    secrets — so a wrong or dropped key fails here, not in a poll or a delivery."""
    from integrations.crypto import encrypted_fields, unreadable

    stored_total, failing = 0, []
    for model, names in encrypted_fields():
        for name in names:
            stored, bad = unreadable(model.objects.all(), name)  # scoped: counts only, every account
            stored_total += stored
            if bad:
                failing.append(f"{bad} of {stored} {model._meta.verbose_name_plural}")
    if failing:
        return {"ok": False, "error": (
            f"The credentials of {', '.join(failing)} cannot be decrypted with FIELD_ENCRYPTION_KEY. "
            "Add the key they were written with after the current one (comma-separated), "
            "then run rotate_credentials_key.")}
    return {"ok": True, "stored": stored_total}


CHECKS = {"database": check_database, "broker": check_broker, "beat": check_beat, "credentials": check_credentials}


def run_checks() -> dict:
    results = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as exc:  # any failure of a part is that part's answer, never a 500
            results[name] = {"ok": False, "error": type(exc).__name__}
    if not results["database"]["ok"]:
        for name in ("beat", "credentials"):
            if "error" in results[name]:
                results[name] = {"ok": False, "error": "database unavailable"}
    return results


@never_cache
@require_GET
def healthz(request):
    checks = run_checks()
    healthy = all(c["ok"] for c in checks.values())
    body = {"status": "ok" if healthy else "failing", "checks": checks,
            "failing": [name for name, c in checks.items() if not c["ok"]]}
    return JsonResponse(body, status=200 if healthy else 503)
