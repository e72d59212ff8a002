"""Kaseya BMS tickets (R13.3), per VENDOR_APIS.md § Kaseya BMS and Vorex (Vorex shares the API)."""

from functools import partial

from django.utils import timezone

from integrations.psa.client import NotFound, PsaClient, option_int
from integrations.psa.tickets import Company, TicketState, first_ours

MONITORING_SOURCE = 5  # SourceId 5 = monitoring system


class BmsClient(PsaClient):
    title_limit = 250
    default_rate_per_minute = 25  # BMS and Vorex: 1,500 calls per hour per endpoint
    read_limit = 50  # one call a ticket: at most this many a read-back, the least recently read first
    default_host = "https://api.bms.kaseya.com"
    label = "Kaseya BMS"

    def __init__(self, integration):
        super().__init__(integration)
        self.root = (integration.base_url or self.default_host).rstrip("/") + "/v2"
        self._token = None

    def authenticate(self):
        if self._token is None:
            c = self.credentials
            body = {"UserName": c["username"], "Password": c["password"], "TenantName": c["tenant"]}
            answer = self.request("POST", f"{self.root}/security/authenticate", f"{self.label} sign-in", json=body)
            self._token = answer.json()["Result"]["AccessToken"]
            self.http.headers["Authorization"] = f"Bearer {self._token}"

    def api(self, method, path, what, **kwargs):
        self.authenticate()
        return self.request(method, f"{self.root}{path}", f"{self.label} {what}", **kwargs)

    def test(self) -> str:
        self.authenticate()
        return f"Connected to {self.label}."

    def find(self, ref):
        query = {"Filter": {"Title": f"[{ref}]"}, "PageNumber": 1, "PageSize": 25}
        found = self.api("POST", "/servicedesk/tickets/search", "ticket lookup", json=query).json()
        return first_ours(found.get("Result"), ref, "Title", "Id")

    def create(self, ticket):
        o = self.options
        body = {
            "Title": ticket.title,
            "Details": ticket.description,
            "AccountId": _int(ticket.company, "company"),
            "StatusId": _int(o.get("status") or 1, "status"),
            "PriorityId": _int(ticket.priority or o.get("priority") or 2, "priority"),
            "TypeId": _int(o.get("ticket_type") or 1, "ticket_type"),
            "SourceId": MONITORING_SOURCE,
            "QueueId": _int(o["board"], "board") if o.get("board") else None,
            "OpenDate": ticket_open_date(),
        }
        body = {k: v for k, v in body.items() if v is not None}
        answer = self.api("POST", "/servicedesk/tickets", "create", json=body).json()
        return answer["Result"]["Id"]

    def close(self, ticket_id, status):
        patch = [{"op": "replace", "path": "/StatusId", "value": _int(status, "closed_status")}]
        self.api("PATCH", f"/servicedesk/tickets/{ticket_id}", "close", json=patch)

    def note(self, ticket_id, text):
        """R17.1: an internal note on a ticket (a storm's alerts joined or resolved)."""
        body = {"Details": text, "IsInternal": True}
        self.api("POST", f"/servicedesk/tickets/{_int(ticket_id, 'ticket')}/notes", "note", json=body)

    def notes(self, ticket_id) -> list[str]:
        """R17.1: the texts of the ticket's notes (a retried note looks for its own first)."""
        answer = self.api("GET", f"/servicedesk/tickets/{_int(ticket_id, 'ticket')}/notes", "notes").json()
        return [row.get("Details") or "" for row in answer.get("Result") or []]

    def tickets(self, ids):
        """R19.1: one GET a ticket (the API has no documented batch read); 404: deleted.
        Closed when it has a closed date or the configured closed status."""
        closed_status = str(self.options.get("closed_status") or "")
        found = {}
        for ticket_id in ids:
            row = self._one(f"/servicedesk/tickets/{_int(ticket_id, 'ticket')}", "ticket read-back")
            if row is None:
                continue
            closed = bool(row.get("ClosedDate")) or (closed_status and str(row.get("StatusId")) == closed_status)
            found[str(ticket_id)] = TicketState(str(ticket_id), bool(closed), row.get("StatusName") or "",
                                                row.get("ClosedBy") or "")
        return found

    def companies(self, search, limit=25):
        """R19.2: accounts (the CRM's companies) whose name holds `search`."""
        literal = search.replace("'", "''")  # OData string literal
        answer = self.api("GET", "/crm/accounts", "companies",
                          params={"$filter": f"contains(AccountName,'{literal}')", "$top": limit}).json()
        return [Company(str(r["Id"]), r.get("AccountName") or str(r["Id"])) for r in answer.get("Result") or []]

    def known_companies(self, ids):
        """R19.2: {id: name} of those of `ids` the PSA still has, one GET each."""
        known = {}
        for company_id in ids:
            row = self._one(f"/crm/accounts/{_int(company_id, 'company')}", "company check")
            if row is not None:
                known[str(company_id)] = row.get("AccountName", "")
        return known

    def _one(self, path, what):
        """One record's `Result`, or None when the PSA answers 404 (it is gone)."""
        try:
            return self.api("GET", path, what).json().get("Result") or {}
        except NotFound:
            return None


def ticket_open_date() -> str:
    return timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ")


_int = partial(option_int, vendor="Kaseya BMS")
