"""Pollers that fill inventory from external systems, by integration kind.

Each poller takes an Integration and `now`, syncs idempotently, and raises on a
failed sync so its previous data stays as it was. The vendor modules register
themselves here as they land.
"""

from collections.abc import Callable

from django.utils import timezone

POLLERS: dict[str, Callable] = {}


def poll(integration, now=None) -> str:
    """Sync one integration now; answers a one-line summary and records the outcome."""
    now = now or timezone.now()
    poller = POLLERS.get(integration.kind)
    if poller is None:
        return f"{integration}: nothing to poll for this kind"
    try:
        summary = poller(integration, now)
    except Exception as exc:
        integration.last_sync_at, integration.last_sync_ok, integration.last_error = now, False, str(exc)[:2000]
        integration.save(update_fields=["last_sync_at", "last_sync_ok", "last_error"])
        return f"{integration}: failed: {exc}"
    integration.last_sync_at, integration.last_sync_ok, integration.last_error = now, True, ""
    integration.save(update_fields=["last_sync_at", "last_sync_ok", "last_error"])
    return f"{integration}: {summary}"
