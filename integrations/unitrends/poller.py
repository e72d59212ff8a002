"""Sync each registered Unitrends appliance into inventory, incrementally and resumably.

An Integration of kind `unitrends` is one appliance: `base_url`, credentials
`username`/`password`, options `organization` (where a new appliance goes),
`appliance` (the inventory appliance, filled on the first sync) and `verify_tls`.

Why it is built this way:
- Each step (integrations.unitrends.steps.STEPS) commits on its own and is recorded in
  `Appliance.sync_cursor["run"]["done"]`; a sync that fails halfway keeps what
  it wrote, and the next one resumes at the failed step. Nothing is deleted
  because a read failed.
- The dated reads ask only for what started since the last *completed* sync
  (`sync_cursor["since"]`, minus a day of overlap); the window moves only when
  every step is done, so an interrupted sync never skips a backup.
- A stale feed is not a missed backup: when the appliance does not answer it is
  marked `offline` with the error in `last_sync_error`, and `last_contact_at` /
  `last_sync_at` keep the time the portal last reached it, which the conditional
  alarms' root cause reports as "appliance offline" (R7.2).
"""

import logging
from datetime import date, datetime, timedelta

from celery import shared_task
from django.db import transaction

from integrations import glitches, http
from integrations.models import Integration
from integrations.sync_warnings import collecting
from integrations.unitrends.client import UnitrendsClient, Unreachable
from integrations.unitrends.steps import STEPS
from inventory import due
from inventory.models import Appliance
from tenancy import locks
from tenancy.models import Organization

log = logging.getLogger(__name__)
FIRST_SYNC_DAYS = 90  # the first sync reads this much history; later ones only what changed
RESUME_WITHIN = timedelta(hours=6)  # an older interrupted run starts over (its data may have moved on)


class SyncFailed(Exception):
    pass


def appliance_for(integration) -> Appliance:
    """The inventory appliance of an integration, created in its organization on the first sync."""
    options = integration.options or {}
    if options.get("appliance"):
        appliance = Appliance.objects.filter(account_id=integration.account_id, pk=options["appliance"]).first()
        if appliance is not None:
            return appliance
    organization = Organization.objects.filter(account_id=integration.account_id, pk=options.get("organization")).first()
    if organization is None:
        raise SyncFailed("Choose the organization this appliance belongs to (option `organization`).")
    appliance, _ = Appliance.objects.get_or_create(
        account_id=integration.account_id, external_id=f"unitrends-{integration.pk}",
        defaults={"organization": organization, "name": integration.name[:200]},
    )
    integration.options = {**options, "appliance": appliance.pk}
    Integration.objects.filter(pk=integration.pk).update(options=integration.options)
    return appliance


def sync(integration, now, client=None) -> str:
    """One sync of one appliance; raises on failure after recording it (pollers.poll records it too)."""
    appliance = appliance_for(integration)
    with _exclusive(appliance) as mine:
        if not mine:  # the beat and a "sync now" overlap: one is enough
            return f"{appliance.name}: another sync is running"
        appliance.refresh_from_db(fields=["sync_cursor"])
        with glitches.polling(integration):  # R15.3: an empty job-order list is held on the integration
            return _run(appliance, client or UnitrendsClient.for_integration(integration), now)


def _run(appliance, client, now) -> str:
    cursor = dict(appliance.sync_cursor or {})
    run = cursor.get("run") or {}
    if not run or _parse(run.get("started_at")) is None or now - _parse(run["started_at"]) > RESUME_WITHIN:
        run = {"started_at": now.isoformat(), "done": []}
    since = _since(cursor.get("since")) or (now - timedelta(days=FIRST_SYNC_DAYS)).date()
    changed = {}
    with collecting() as warnings:
        for name, step in STEPS.items():
            if name in run["done"]:
                continue  # resumed: this step committed in the interrupted run
            try:
                with transaction.atomic():
                    changed[name] = step(client, appliance, since, now)
                    run["done"].append(name)
                    _contact(appliance, now, sync_cursor={**cursor, "run": run})
            except http.VendorError as exc:
                _failed(appliance, now, exc, cursor, run)
                raise SyncFailed(f"{appliance.name}: {name} failed: {exc}") from exc
    cursor = {"since": run["started_at"], "run": None}
    warning = " ".join(warnings)[:2000]
    _contact(appliance, now, sync_cursor=cursor, last_sync_at=now, last_sync_error="", last_sync_warning=warning)
    resumed = " (resumed)" if len(changed) < len(STEPS) else ""
    return f"{appliance.name}: synced{resumed}, {sum(changed.values())} changes" + (f"; {warning}" if warning else "")


def _exclusive(appliance):
    """A session advisory lock per appliance (PostgreSQL); SQLite serialises writers by itself."""
    return locks.session_lock(locks.APPLIANCE_SYNC, appliance.pk)


def _contact(appliance, now, **fields):
    fields.update(last_contact_at=now, status=Appliance.Status.ONLINE)
    due.contact_refreshed(Appliance.objects.filter(pk=appliance.pk))  # silent until now: its alarms' details change
    Appliance.objects.filter(pk=appliance.pk).update(**fields)
    for key, value in fields.items():
        setattr(appliance, key, value)


def _failed(appliance, now, exc, cursor, run):
    """Keep everything synced so far; an appliance that does not answer is offline (R2.3, R7.2)."""
    fields = {"last_sync_error": str(exc)[:2000], "sync_cursor": {**cursor, "run": run}}
    if isinstance(exc, Unreachable) and exc.status in (None, 502, 503, 504):
        fields["status"] = Appliance.Status.OFFLINE  # refused or timed out: the portal cannot reach it
        due.appliances_changed([appliance.pk])  # its alarms now name the appliance offline (R7.2)
    Appliance.objects.filter(pk=appliance.pk).update(**fields)
    log.warning("appliance sync failed: %s: %s", appliance.name, exc)


def _parse(text):
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _since(text) -> date | None:
    started = _parse(text)
    return (started - timedelta(days=1)).date() if started else None


def poll(integration, now) -> str:
    return sync(integration, now)


@shared_task(name="integrations.appliance_sync.sync_all")
def sync_all():
    """Beat: every 5 minutes, one task per enabled appliance integration."""
    ids = Integration.objects.filter(kind=Integration.Kind.UNITRENDS, enabled=True).values_list("pk", flat=True)
    for pk in ids:
        sync_one.delay(pk)


@shared_task(name="integrations.appliance_sync.sync_one")
def sync_one(integration_id):
    from integrations.pollers import poll as record_poll

    integration = Integration.objects.filter(pk=integration_id, enabled=True).first()
    if integration is not None:
        return record_poll(integration)

