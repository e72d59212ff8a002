"""Kaseya BMS tickets (R13.3), per VENDOR_APIS.md § Kaseya BMS and Vorex (Vorex shares the API)."""

from functools import partial

from django.utils import timezone

from integrations.psa.client import PsaClient, option_int
from integrations.psa.tickets import first_ours

MONITORING_SOURCE = 5  # SourceId 5 = monitoring system


class BmsClient(PsaClient):
    title_limit = 250
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


def ticket_open_date() -> str:
    return timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ")


_int = partial(option_int, vendor="Kaseya BMS")
