"""Datto Portal client (api.datto.com v1) and its Backup for Microsoft Azure reads (VENDOR_APIS.md).

DBMA has no public API; its paths and shapes are ours, kept in this module only
(`dbma_clients`, `dbma_assets`) so they are easy to correct.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from integrations import http
from integrations.http import VendorError
from tenancy.validation import clean_name

log = logging.getLogger(__name__)

BASE_URL = "https://api.datto.com/v1"
PER_PAGE = 100
MAX_PAGES = 1000  # a bound, in case a vendor bug loops
BACKUP_STATUSES = ("Succeeded", "Failed", "Partial", "InProgress")


@dataclass
class AzureAssetRow:
    external_id: str
    name: str
    module: str
    resource_group: str
    last_status: str
    last_started_at: datetime | None
    last_ended_at: datetime | None


def parse_time(value) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError(f"time {value!r} is not text")
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"time {value!r} has no offset")
    return moment


class DattoApi:
    vendor = "Datto Portal"

    def __init__(self, public_key, secret_key, base_url="", timeout=http.DEFAULT_TIMEOUT):
        self.base_url = (base_url or BASE_URL).rstrip("/")
        self.http = http.session(retries=2, timeout=timeout)
        self.http.auth = (public_key, secret_key)

    def get(self, path, **params):
        return http.get_json(self.http, self.base_url + path, self.vendor, params=params or None)

    def paged(self, path) -> list:
        """`?_page=&_perPage=` until `pagination.totalPages`."""
        items, page = [], 1
        while page <= MAX_PAGES:
            body = self.get(path, _page=page, _perPage=PER_PAGE)
            try:
                batch, total_pages = body["items"], int(body["pagination"]["totalPages"])
            except (KeyError, TypeError, ValueError) as exc:
                raise VendorError(f"Datto answered a page without items/pagination ({path}).") from exc
            if not isinstance(batch, list):
                raise VendorError(f"Datto answered items that are not a list ({path}).")
            items.extend(batch)
            if page >= total_pages or not batch:
                return items
            page += 1
        raise VendorError(f"Datto pages did not end ({path}).")

    def dbma_clients(self) -> list[dict]:
        clients = []
        for row in self.paged("/dbma/clients"):
            if isinstance(row, dict) and row.get("id") not in (None, "") and isinstance(row.get("name"), str):
                clients.append({"id": str(row["id"]), "name": clean_name(row["name"], 200) or str(row["id"])})
            else:
                log.warning("Datto client skipped (no id or name): %r", row)
        return clients

    def dbma_assets(self, client_id: str) -> list[AzureAssetRow]:
        assets = []
        for row in self.paged(f"/dbma/clients/{client_id}/assets"):
            try:
                assets.append(_asset(row))
            except (KeyError, TypeError, ValueError) as exc:
                log.warning("Datto Azure asset skipped (%s): %r", exc, row)
        return assets


def _asset(row) -> AzureAssetRow:
    asset_id, name = row["assetId"], row["name"]
    if asset_id in (None, "") or not isinstance(name, str):
        raise ValueError("assetId or name missing")
    last = row.get("lastBackup") or {}
    if not isinstance(last, dict):
        raise ValueError("lastBackup is not an object")
    status = last.get("status", "")
    if last and status not in BACKUP_STATUSES:
        raise ValueError(f"unknown backup status {status!r}")
    return AzureAssetRow(
        external_id=str(asset_id),
        name=clean_name(name, 200),
        module=clean_name(row.get("module") or "Datto Backup for Microsoft Azure", 100),
        resource_group=clean_name(row.get("resourceGroup") or "", 200),
        last_status=status,
        last_started_at=parse_time(last.get("startTime")),
        last_ended_at=parse_time(last.get("endTime")),
    )
