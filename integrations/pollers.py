"""Polling an integration now: its kind's poller (`integrations.kinds`), and the outcome recorded.

Each poller takes an Integration and `now`, syncs idempotently, and raises on a
failed sync so its previous data stays as it was.
"""

from django.utils import timezone

from integrations import kinds


def poll(integration, now=None) -> str:
    """Sync one integration now; answers a one-line summary and records the outcome."""
    now = now or timezone.now()
    kind = kinds.get(integration.kind)
    if kind is None or not kind.poller:
        return f"{integration}: nothing to poll for this kind"
    poller = kinds.resolve(kind.poller)
    try:
        summary = poller(integration, now)
    except Exception as exc:
        integration.last_sync_at, integration.last_sync_ok, integration.last_error = now, False, str(exc)[:2000]
        integration.save(update_fields=["last_sync_at", "last_sync_ok", "last_error"])
        return f"{integration}: failed: {exc}"
    integration.last_sync_at, integration.last_sync_ok, integration.last_error = now, True, ""
    integration.save(update_fields=["last_sync_at", "last_sync_ok", "last_error"])
    return f"{integration}: {summary}"
