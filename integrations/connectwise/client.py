"""ConnectWise Manage tickets (R13.3), per VENDOR_APIS.md § ConnectWise Manage."""

import base64
from functools import partial

from integrations.psa.client import PsaClient, call, option_int
from integrations.psa.tickets import Company, TicketState, batches, first_ours

# R19: ids per read-back call; `id in (...)` travels in the query string, so it stays short.
READ_BATCH = 200
NOTES_READ = 100  # a retried note is among the ticket's newest

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

    def note(self, ticket_id, text):
        """R17.1: an internal note on a ticket (a storm's alerts joined or resolved)."""
        body = {"text": text, "internalAnalysisFlag": True, "detailDescriptionFlag": False}
        self.request("POST", f"{self.base()}/service/tickets/{_int(ticket_id, 'ticket')}/notes", "ConnectWise note",
                     json=body)

    def notes(self, ticket_id) -> list[str]:
        """R17.1: the texts of the ticket's newest notes (a retried note looks for its own first)."""
        rows = self.request("GET", f"{self.base()}/service/tickets/{_int(ticket_id, 'ticket')}/notes",
                            "ConnectWise notes", params={"orderBy": "id desc", "pageSize": NOTES_READ,
                                                         "fields": "id,text"}).json()
        return [row.get("text") or "" for row in rows]

    def tickets(self, ids):
        """R19.1: `conditions=id in (...)`, a batch a call; a ticket not in the answer is gone."""
        found = {}
        for batch in batches(ids, READ_BATCH):
            rows = self.request("GET", f"{self.base()}/service/tickets", "ConnectWise ticket read-back", params={
                "conditions": f"id in ({','.join(str(_int(i, 'ticket')) for i in batch)})",
                "fields": "id,status,closedFlag,closedBy,closedDate", "pageSize": READ_BATCH,
            }).json()
            for row in rows:
                found[str(row["id"])] = TicketState(
                    str(row["id"]), bool(row.get("closedFlag")), (row.get("status") or {}).get("name", ""),
                    str(row.get("closedBy") or ""),
                )
        return found

    def companies(self, search, limit=25):
        """R19.2: active companies whose name holds `search`."""
        conditions = f'name like "%{like_literal(search)}%" and deletedFlag=false'
        rows = self.request("GET", f"{self.base()}/company/companies", "ConnectWise companies", params={
            "conditions": conditions, "fields": "id,identifier,name", "orderBy": "name asc", "pageSize": limit,
        }).json()
        return [Company(str(row["id"]), row.get("name") or row.get("identifier") or str(row["id"])) for row in rows]

    def known_companies(self, ids):
        """R19.2: {id: name} of those of `ids` the PSA still has."""
        known = {}
        for batch in batches(ids, READ_BATCH):
            rows = self.request("GET", f"{self.base()}/company/companies", "ConnectWise company check", params={
                "conditions": f"id in ({','.join(str(_int(i, 'company')) for i in batch)}) and deletedFlag=false",
                "fields": "id,name", "pageSize": READ_BATCH,
            }).json()
            known.update({str(row["id"]): row.get("name", "") for row in rows})
        return known


def like_literal(text: str) -> str:
    """`text` matched literally by ConnectWise's `like` (SQL Server LIKE, VENDOR_APIS.md):
    `[`, `%` and `_` are wildcards there, written `[[]`, `[%]`, `[_]`; a `"` ends the value."""
    return "".join(f"[{ch}]" if ch in "[%_" else '\\"' if ch == '"' else ch for ch in text)


_int = partial(option_int, vendor="ConnectWise")
