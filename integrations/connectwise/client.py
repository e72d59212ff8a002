"""ConnectWise Manage tickets (R13.3), per VENDOR_APIS.md § ConnectWise Manage."""

import base64
from functools import partial

from integrations.psa.client import PsaClient, call, option_int
from integrations.psa.tickets import first_ours

# (site, company) → API root: the codebase changes only with a CW release, so one lookup per process.
_ROOTS: dict[tuple[str, str], str] = {}


class ConnectWiseClient(PsaClient):
    title_limit = 100  # CW's summary holds 100 characters

    def __init__(self, integration):
        super().__init__(integration)
        c = self.credentials
        token = base64.b64encode(f"{c['company_id']}+{c['public_key']}:{c['private_key']}".encode()).decode()
        self.http.headers.update({"Authorization": f"Basic {token}", "clientId": c.get("client_id", "")})
        self.site = (integration.base_url or "https://api-na.myconnectwise.net").rstrip("/")

    def base(self) -> str:
        """The codebase is found without auth (it moves between releases)."""
        key = (self.site, self.credentials["company_id"])
        if key not in _ROOTS:
            url = f"{self.site}/login/companyinfo/{key[1]}"
            info = call(self.http, "GET", url, "ConnectWise company info").json()
            _ROOTS[key] = f"{self.site}/{info.get('Codebase', 'v4_6_release/')}apis/3.0"
        return _ROOTS[key]

    def test(self) -> str:
        boards = self.request("GET", f"{self.base()}/service/boards", "ConnectWise boards",
                              params={"pageSize": 1000}).json()
        return f"Connected to ConnectWise Manage ({len(boards)} boards)."

    def find(self, ref):
        conditions = f'summary like "%{like_literal(f"[{ref}]")}%"'
        found = self.request("GET", f"{self.base()}/service/tickets", "ConnectWise ticket lookup",
                             params={"conditions": conditions, "pageSize": 25, "orderBy": "id asc"}).json()
        return first_ours(found, ref, "summary", "id")

    def create(self, ticket):
        body = {
            "summary": ticket.title,
            "initialDescription": ticket.description,
            "company": {"id": _int(ticket.company, "company")},
            "board": {"id": _int(self.options.get("board"), "board")},
        }
        if self.options.get("status"):
            body["status"] = {"id": _int(self.options["status"], "status")}
        priority = ticket.priority or self.options.get("priority")
        if priority:
            body["priority"] = {"id": _int(priority, "priority")}
        if self.options.get("ticket_type"):
            body["type"] = {"id": _int(self.options["ticket_type"], "ticket_type")}
        return self.request("POST", f"{self.base()}/service/tickets", "ConnectWise create", json=body).json()["id"]

    def close(self, ticket_id, status):
        patch = [{"op": "replace", "path": "status", "value": {"id": _int(status, "closed_status")}}]
        self.request("PATCH", f"{self.base()}/service/tickets/{ticket_id}", "ConnectWise close", json=patch)


def like_literal(text: str) -> str:
    """`text` matched literally by ConnectWise's `like` (SQL Server LIKE, VENDOR_APIS.md):
    `[`, `%` and `_` are wildcards there, written `[[]`, `[%]`, `[_]`; a `"` ends the value."""
    return "".join(f"[{ch}]" if ch in "[%_" else '\\"' if ch == '"' else ch for ch in text)


_int = partial(option_int, vendor="ConnectWise")
