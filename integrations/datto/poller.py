"""The Datto poller: DBMA clients and their Azure assets with their last backups (R9), read first
and written in one transaction; assets Datto stops listing go, unless the answer is suddenly empty (R15.3)."""

from django.db import transaction

from integrations import glitches, kinds, mapping
from integrations.saas import with_health
from inventory import lifecycle
from inventory.models import AzureAsset


def client_for(integration):
    kind = kinds.get(integration.kind)
    creds = integration.credentials or {}
    public_key, secret_key = (creds.get(name, "") for name in kind.credential_fields)
    return kind.client_class(public_key, secret_key, base_url=integration.base_url)


@with_health
def poll(integration, now):
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
