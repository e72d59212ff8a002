"""Autotask tickets (R13.3), per VENDOR_APIS.md § Autotask PSA: zone lookup, then REST."""

from functools import partial

from integrations.http import PermanentError
from integrations.psa.client import PsaClient, call, option_int
from integrations.psa.tickets import first_ours

ZONE_LOOKUP = "https://webservices.autotask.net/atservicesrest/"


class AutotaskClient(PsaClient):
    title_limit = 255

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


_int = partial(option_int, vendor="Autotask")
