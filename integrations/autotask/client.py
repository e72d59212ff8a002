"""Autotask tickets (R13.3), per VENDOR_APIS.md § Autotask PSA: zone lookup, then REST."""

from functools import partial

from integrations.http import PermanentError
from integrations.psa.client import PsaClient, call, option_int
from integrations.psa.tickets import Company, TicketState, batches, first_ours

# R19: ids per query (Autotask answers at most 500 items a page).
READ_BATCH = 200
COMPLETE = 5  # the default "Complete" ticket status

ZONE_LOOKUP = "https://webservices.autotask.net/atservicesrest/"


class AutotaskClient(PsaClient):
    title_limit = 255
    default_rate_per_minute = 160  # Autotask: 10,000 requests per rolling hour per database

    def __init__(self, integration):
        super().__init__(integration)
        c = self.credentials
        self.http.headers.update(
            {"ApiIntegrationCode": c["integration_code"], "UserName": c["username"], "Secret": c["secret"]}
        )
        self._zone = None

    def zone(self) -> str:
        """Each database lives in one zone; the lookup needs no auth and tells us where."""
        if self._zone is None:
            lookup = (self.integration.base_url or ZONE_LOOKUP).rstrip("/") + "/v1.0/zoneInformation"
            info = call(self.http, "GET", lookup, "Autotask zone lookup",
                        params={"user": self.credentials["username"]}).json()
            if not info.get("url"):
                raise PermanentError("Autotask zone lookup: unknown API user")
            self._zone = info["url"].rstrip("/") + "/V1.0"
        return self._zone

    def test(self) -> str:
        fields = self.request("GET", f"{self.zone()}/Tickets/entityInformation/fields", "Autotask fields").json()
        return f"Connected to Autotask ({len(fields.get('fields', []))} ticket fields)."

    def find(self, ref):
        query = {"filter": [{"op": "contains", "field": "title", "value": f"[{ref}]"}]}
        items = self.request("POST", f"{self.zone()}/Tickets/query", "Autotask ticket lookup", json=query).json()
        return first_ours(items.get("items"), ref, "title", "id")

    def create(self, ticket):
        o = self.options
        body = {
            "companyID": _int(ticket.company, "company"),
            "title": ticket.title,
            "description": ticket.description[:8000],
            "status": _int(o.get("status") or 1, "status"),
            "priority": _int(ticket.priority or o.get("priority") or 2, "priority"),
            "queueID": _int(o["board"], "board") if o.get("board") else None,
            "ticketType": _int(o.get("ticket_type") or 1, "ticket_type"),
            "source": _int(o.get("source") or 8, "source"),  # 8: monitoring alert
        }
        answer = self.request("POST", f"{self.zone()}/Tickets", "Autotask create",
                              json={k: v for k, v in body.items() if v is not None}).json()
        return answer["itemId"]

    def close(self, ticket_id, status):
        body = {"id": _int(ticket_id, "ticket"), "status": _int(status, "closed_status")}
        self.request("PATCH", f"{self.zone()}/Tickets", "Autotask close", json=body)

    def note(self, ticket_id, text):
        """R17.1: a ticket note (a storm's alerts joined or resolved); note type 1, published internally."""
        ticket = _int(ticket_id, "ticket")
        body = {"ticketID": ticket, "title": "uniview update", "description": text, "noteType": 1, "publish": 1}
        self.request("POST", f"{self.zone()}/Tickets/{ticket}/Notes", "Autotask note", json=body)

    def notes(self, ticket_id) -> list[str]:
        """R17.1: the texts of the ticket's notes (a retried note looks for its own first)."""
        ticket = _int(ticket_id, "ticket")
        answer = self.request("GET", f"{self.zone()}/Tickets/{ticket}/Notes", "Autotask notes").json()
        return [item.get("description") or "" for item in answer.get("items", [])]

    def query(self, entity, filters, what, **extra):
        body = {"filter": filters, **extra}
        return self.request("POST", f"{self.zone()}/{entity}/query", what, json=body).json().get("items") or []

    def tickets(self, ids):
        """R19.1: `id in [...]` a batch a query; complete when the status is Complete (or the
        configured closed status) or it has a completed date. Who completed it is a resource id,
        named with one more query."""
        closed_status = str(self.options.get("closed_status") or COMPLETE)
        rows = []
        for batch in batches(ids, READ_BATCH):
            values = [_int(i, "ticket") for i in batch]
            rows += self.query("Tickets", [{"op": "in", "field": "id", "value": values}], "Autotask ticket read-back")
        closed = {r["id"] for r in rows if str(r.get("status")) in (closed_status, str(COMPLETE)) or r.get("completedDate")}
        names = self.resource_names({r["completedByResourceID"] for r in rows
                                     if r["id"] in closed and r.get("completedByResourceID")})
        return {
            str(r["id"]): TicketState(str(r["id"]), r["id"] in closed, str(r.get("status") or ""),
                                      names.get(r.get("completedByResourceID"), ""))
            for r in rows
        }

    def resource_names(self, ids) -> dict:
        if not ids:
            return {}
        rows = self.query("Resources", [{"op": "in", "field": "id", "value": sorted(ids)}], "Autotask resources")
        return {r["id"]: " ".join(filter(None, (r.get("firstName"), r.get("lastName")))) for r in rows}

    def companies(self, search, limit=25):
        """R19.2: active companies whose name holds `search`."""
        rows = self.query("Companies", [{"op": "contains", "field": "companyName", "value": search},
                                        {"op": "eq", "field": "isActive", "value": True}],
                          "Autotask companies", MaxRecords=limit)
        return [Company(str(r["id"]), r.get("companyName") or str(r["id"])) for r in rows]

    def known_companies(self, ids):
        """R19.2: {id: name} of those of `ids` the PSA still has."""
        known = {}
        for batch in batches(ids, READ_BATCH):
            values = [_int(i, "company") for i in batch]
            rows = self.query("Companies", [{"op": "in", "field": "id", "value": values}], "Autotask company check")
            known.update({str(r["id"]): r.get("companyName", "") for r in rows})
        return known


_int = partial(option_int, vendor="Autotask")
