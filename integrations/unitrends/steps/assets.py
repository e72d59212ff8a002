"""The assets step: the appliance's protected assets (leaves of its asset tree)."""

from inventory import due
from inventory.lifecycle import follow_appliance
from inventory.models import Asset, AssetType
from tenancy.validation import clean_name, has_control_characters

ASSET_TYPES = {
    "vmware": AssetType.VMWARE, "hyperv": AssetType.HYPERV, "hyper-v": AssetType.HYPERV,
    "windows": AssetType.WINDOWS, "sql": AssetType.SQL, "exchange": AssetType.EXCHANGE,
    "oracle": AssetType.ORACLE, "nas": AssetType.NAS, "ndmp": AssetType.NAS,
}


def assets(client, appliance, since, now) -> int:
    wanted = {}
    for node in _leaves(client.assets()):
        # The vendor's name is cleaned to one line (a control character would break an email
        # subject, a NUL the database); an id that cannot be stored as given is skipped, not cut.
        name = clean_name(node.get("name") or "", 200)
        external_id = str(node.get("id", ""))
        if not external_id or not name or len(external_id) > 100 or has_control_characters(external_id):
            continue
        kind = ASSET_TYPES.get(str(node.get("type", "")).lower().replace(" ", ""), AssetType.OS)
        wanted[external_id] = {"name": name, "type": kind}
    existing = {a.external_id: a for a in Asset.objects.filter(appliance=appliance)}
    changed = 0
    for external_id, fields in wanted.items():
        asset = existing.get(external_id)
        if asset is None:
            Asset(appliance=appliance, external_id=external_id, **fields).save()
        elif any(getattr(asset, k) != v for k, v in fields.items()):
            Asset.objects.filter(pk=asset.pk).update(**fields)
            due.assets_changed([asset.pk])
        else:
            continue
        changed += 1
    # R15.1: an asset is in its appliance's organization, even one created from a read before a move.
    return changed + follow_appliance(appliance)


def _leaves(nodes):
    for node in nodes:
        children = [c for c in node.get("children") or [] if isinstance(c, dict)]
        if children:
            yield from _leaves(children)
        else:
            yield node
