"""Pollers for Spanning (daily statuses: new days and the last two again) and Datto (clients, Azure assets, backups).

Each reads everything from the vendor first and writes in one transaction, so a
failed poll leaves the previous data as it was; `integrations.pollers.poll`
records the failure on the Integration, and `SyncHealth` keeps the R9.2 reason.
After new statuses or assets are stored the account is evaluated (R14.1).
"""

import logging
from datetime import timedelta

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from integrations import datto, glitches, mapping, spanning
from integrations.http import InvalidCredentials, QuotaReached, VendorError
from inventory import lifecycle
from inventory.models import AzureAsset, DattoClient, SaasDailyStatus, SaasSource, SyncHealth
from tenancy import locks
from tenancy.validation import clean_name

log = logging.getLogger(__name__)

SPANNING_KINDS = {"spanning_m365": "m365", "spanning_gws": "gws", "spanning_salesforce": "salesforce"}
CREDENTIAL_FIELDS = {
    "spanning_m365": ("admin_email", "api_token"),
    "spanning_gws": ("domain", "access_token"),
    "spanning_salesforce": ("admin_email", "api_token"),
    "datto": ("public_key", "secret_key"),
}
FIRST_POLL_DAYS = 7  # R8.3 needs a week of history
REREAD_DAYS = 2  # R15.4: Spanning may publish a failure for a day already stored as successful


def client_for(integration):
    creds = integration.credentials or {}
    user, secret = (creds.get(name, "") for name in CREDENTIAL_FIELDS[integration.kind])
    if integration.kind == "datto":
        return datto.DattoClient(user, secret, base_url=integration.base_url)
    cls = {"spanning_m365": spanning.M365Client, "spanning_gws": spanning.GoogleClient,
           "spanning_salesforce": spanning.SalesforceClient}[integration.kind]
    return cls(user, secret, region=(integration.options or {}).get("region", "us"), base_url=integration.base_url)


def _with_health(poller):
    """Record R9.2 reasons around a poll: failures add theirs, only a success clears them. One poll
    of an integration at a time (a session advisory lock, like an appliance's sync)."""

    def run(integration, now):
        with locks.session_lock(locks.SAAS_POLL, integration.pk) as mine:
            if not mine:  # two polls at once would race on the same rows (and the R15.3 hold): one is enough
                return "another poll of this integration is running; nothing done"
            try:
                summary = poller(integration, now)
            except VendorError as exc:
                _record(integration, now, exc)
                _evaluate(integration.account, now)
                raise
            _record(integration, now, None)
            _evaluate(integration.account, now)  # also when nothing changed: a cleared reason resolves
            return summary

    return run


def _record(integration, now, error):
    health, _ = SyncHealth.objects.get_or_create(
        account=integration.account, integration_id=integration.pk,
        defaults={"integration_kind": integration.kind, "integration_name": integration.name},
    )
    reasons = [] if error is None else list(health.open_reasons)
    if isinstance(error, (InvalidCredentials, QuotaReached)) and error.reason not in reasons:
        reasons.append(error.reason)
    health.open_reasons, health.last_error, health.checked_at = reasons, "" if error is None else str(error), now
    health.integration_kind, health.integration_name = integration.kind, integration.name
    health.save()


def _evaluate(account, now):
    # integrations → alerts is the allowed direction; R15.6: queued if a run holds the account
    from alerts.evaluation import evaluate_on_demand

    evaluate_on_demand(account, now)


def _store_days(source, days) -> int:
    """Upsert the days read: a day re-read with another status is updated (R15.4). Answers
    how many days are new or changed."""
    if not days:
        return 0
    known = {
        d: (status, services) for d, status, services in
        source.daily_statuses.filter(date__in=[d.date for d in days]).values_list("date", "status", "services")
    }
    changed = [d for d in days if known.get(d.date) != (d.status, d.services)]
    rows = [
        SaasDailyStatus(account_id=source.account_id, source=source, date=d.date, status=d.status, services=d.services)
        for d in changed
    ]
    SaasDailyStatus.objects.bulk_create(rows, update_conflicts=True, unique_fields=["source", "date"],
                                        update_fields=["status", "services"])
    return len(rows)


def _source(integration, kind, external_id, name, figures) -> SaasSource:
    name = clean_name(name, 200) or str(external_id)[:200]  # a vendor's name, one line
    source, created = SaasSource.objects.get_or_create(
        account=integration.account, kind=kind, external_id=external_id,
        defaults={"name": name, "integration_id": integration.pk, **figures},
    )
    if not created:
        for key, value in {"name": name, "integration_id": integration.pk, **figures}.items():
            setattr(source, key, value)
        source.save()
    return source


def _new_days_range(source, today):
    """The days to read: from the day after the newest stored status (R8.2: one per day), and
    always the last two days again, since a day's status can change after it was stored (R15.4)."""
    newest = source.daily_statuses.order_by("-date").values_list("date", flat=True).first() if source else None
    start = newest + timedelta(days=1) if newest else today - timedelta(days=FIRST_POLL_DAYS - 1)
    start = min(start, today - timedelta(days=REREAD_DAYS - 1))
    return max(start, today - timedelta(days=FIRST_POLL_DAYS - 1)), today


def _existing(integration, kind, external_id):
    return SaasSource.objects.filter(account=integration.account, kind=kind, external_id=external_id).first()


@_with_health
def poll_spanning(integration, now):
    client, kind, today = client_for(integration), SPANNING_KINDS[integration.kind], now.date()
    creds = integration.credentials or {}
    if kind == "m365":
        tenant = client.tenant()
        external_id = creds["admin_email"].rpartition("@")[2].lower() or creds["admin_email"]
        figures = {k: _count(tenant.get(k)) for k in ("licenses", "users", "assigned")}
        figures["license_status"] = str(tenant.get("status") or "")[:32]
        batches = [(external_id, external_id, figures, None)]
    elif kind == "gws":
        users = client.users()
        licensed = sum(1 for u in users if u.get("licensed") is True and u.get("archived") is not True)
        figures = {"users": len(users), "assigned": licensed}
        batches = [(creds["domain"].lower(), creds["domain"].lower(), figures, None)]
    else:
        batches = [(o["orgId"], o["name"], {}, o["orgId"]) for o in client.orgs()]
    fetched = []
    for external_id, name, figures, org_id in batches:
        start, end = _new_days_range(_existing(integration, kind, external_id), today)
        if start > end:
            days = []
        elif org_id is None:
            days = client.daily_statuses(start, end)
        else:
            days = client.daily_statuses(org_id, start, end)
        fetched.append((external_id, name, figures, [d for d in days if start <= d.date <= end]))
    stored = 0
    with transaction.atomic():
        for external_id, name, figures, days in fetched:
            source = _source(integration, kind, external_id, name, {**figures, "app_url": client.app_url})
            stored += _store_days(source, days)
    return f"{len(fetched)} source(s), {stored} new or changed daily status(es)"


def _count(value):
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


@_with_health
def poll_datto(integration, now):
    client = client_for(integration)
    feed = [(c, client.dbma_assets(c["id"])) for c in client.dbma_clients()]
    seen = []
    with transaction.atomic():
        for row, assets in feed:
            datto_client = mapping.client_for(integration.account, integration.pk, row["id"], row["name"])
            for a in assets:
                _store_asset(integration, datto_client, a)
                seen.append(a.external_id)
        # Assets Datto no longer lists are gone; their alerts resolve on evaluation. An answer
        # that is suddenly empty is held back until a later poll agrees (R15.3).
        gone = AzureAsset.objects.filter(account=integration.account, integration_id=integration.pk).exclude(
            external_id__in=seen
        )
        kept = glitches.hold(integration, now, _empty_answers(feed, gone))
        removed = lifecycle.remove_azure_assets(gone.exclude(pk__in=kept), now)  # R15.2: alerts resolve first
    held = f", {len(kept)} kept: Datto answered nothing where it had data" if kept else ""
    return f"{len(feed)} client(s), {len(seen)} Azure asset(s), {removed} removed{held}"


def _empty_answers(feed, gone) -> dict:
    """R15.3: an empty client list, or a listed client with no assets, where assets were stored."""
    rows = list(gone.values_list("pk", "client_external_id"))
    if not rows:
        return {}
    if not feed:
        return {"clients": (f"Datto answered no clients; {len(rows)} Azure asset(s) kept.", [pk for pk, _ in rows])}
    empties = {}
    for client, assets in feed:
        ids = [pk for pk, external_id in rows if external_id == str(client["id"])]
        if not assets and ids:
            empties[f"client:{client['id']}"] = (
                f"Datto answered no Azure assets for client {client['name']}; {len(ids)} kept.", ids,
            )
    return empties


def _store_asset(integration, datto_client, row):
    asset = AzureAsset.objects.filter(account=integration.account, external_id=row.external_id).first()
    asset = asset or AzureAsset(account=integration.account, external_id=row.external_id)
    asset.integration_id, asset.organization_id = integration.pk, datto_client.organization_id
    asset.client_external_id, asset.client_name = datto_client.external_id, datto_client.name
    asset.name, asset.module, asset.resource_group = row.name[:200], row.module[:100], row.resource_group[:200]
    asset.last_backup_status, asset.last_backup_at = row.last_status, row.last_ended_at or row.last_started_at
    if row.last_status == "Succeeded" and row.last_ended_at:
        if asset.last_successful_backup_at is None or row.last_ended_at > asset.last_successful_backup_at:
            asset.last_successful_backup_at = row.last_ended_at
    asset.save()


def connection_test(integration) -> str:
    """The integration's connection test (registry.CONNECTION_TESTS)."""
    from integrations.registry import ConnectionFailed

    try:
        client = client_for(integration)
        if integration.kind == "datto":
            return f"Connected to Datto: {len(client.dbma_clients())} client(s)."
        if integration.kind == "spanning_m365":
            tenant = client.tenant()
            return f"Connected to Spanning Microsoft 365: {tenant.get('licenses')} licenses."
        if integration.kind == "spanning_gws":
            return f"Connected to Spanning Google Workspace: {len(client.users())} user(s)."
        return f"Connected to Spanning Salesforce: {len(client.orgs())} org(s)."
    except VendorError as exc:
        raise ConnectionFailed(str(exc)) from exc


@shared_task
def poll_saas():
    """Hourly (beat): every enabled Spanning and Datto integration."""
    from integrations.models import Integration
    from integrations.pollers import poll

    now = timezone.now()
    kinds = [*SPANNING_KINDS, "datto"]
    for integration in Integration.objects.filter(kind__in=kinds, enabled=True).select_related("account"):
        log.info(poll(integration, now))


def forget_integration(sender, instance, **kwargs):
    """An integration removed takes its sources, clients, assets and sync health with it;
    their alerts resolve at the next evaluation (R8.1, R9.2: nothing left to alert on)."""
    if instance.kind not in (*SPANNING_KINDS, "datto"):
        return
    for model in (SaasSource, AzureAsset, DattoClient, SyncHealth):
        model.objects.filter(account_id=instance.account_id, integration_id=instance.pk).delete()
