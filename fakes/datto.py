"""Fake Datto Portal (api.datto.com v1) with the DBMA reads, on loopback (VENDOR_APIS.md);
contract: integrations/datto/FAKE.md, knobs: fakes.base.

`clients` is a list of `{id, name}`; `assets[client_id]` a list of asset rows in the
vendor's shape (use `asset(...)` to build one). Paged reads honour `_page`/`_perPage`.
"""

import math

from fakes.base import BasicAuthFake


def asset(asset_id, name, status="Succeeded", end="2026-11-02T02:00:00Z", module="Production subscription",
          resource_group="rg-prod"):
    last = {"status": status, "startTime": "2026-11-02T01:00:00Z", "endTime": end} if status else None
    return {"assetId": asset_id, "name": name, "module": module, "resourceGroup": resource_group, "lastBackup": last}


class DattoFake(BasicAuthFake):
    prefix = "/v1"

    def __init__(self, username="public-key", secret="secret-key"):
        super().__init__(username, secret)
        self.clients: list = []
        self.assets: dict[str, list] = {}
        self.domains: list = []

    def read(self, path, query):
        if path == "/v1/saas/domains":
            return 200, self.domains
        if path == "/v1/dbma/clients":
            return self._paged(self.clients, query)
        parts = path.split("/")
        if len(parts) == 6 and parts[2] == "dbma" and parts[3] == "clients" and parts[5] == "assets":
            if parts[4] not in self.assets and not any(str(c.get("id")) == parts[4] for c in self.clients):
                return 404, {"code": "404", "message": "Not Found"}
            return self._paged(self.assets.get(parts[4], []), query)
        return 404, {"code": "404", "message": "Not Found"}

    def _paged(self, rows, query):
        page, per_page = int(query.get("_page", 1)), int(query.get("_perPage", 100))
        total_pages = max(1, math.ceil(len(rows) / per_page))
        items = rows[(page - 1) * per_page: page * per_page]
        return 200, {
            "pagination": {"page": page, "perPage": per_page, "totalPages": total_pages, "count": len(rows)},
            "items": items,
        }
