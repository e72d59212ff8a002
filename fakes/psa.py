"""Fake PSAs on loopback speaking VENDOR_APIS.md: ConnectWise Manage, Autotask, Kaseya BMS / Vorex
(contracts: integrations/{connectwise,autotask,bms,vorex}/FAKE.md; knobs: fakes.base).

Each keeps `tickets` (id → dict with at least `title`, `company`, `status`, `priority`) so tests
read the same facts whichever vendor they drive. Searches match the way the vendor
does, not the way we wish it did: ConnectWise `conditions` use SQL Server's LIKE
(`%`, `_` and `[...]` character classes, case-insensitive), Autotask's `contains`
and the BMS title filter are case-insensitive substring matches.

For the two-way sync (R19) each also reads tickets back and lists `companies` (id → name):
`close_in_psa(id, by=…)` and `delete_in_psa(id)` are what a technician does in the PSA.
"""

import base64
import itertools
import re
import time

from fakes.base import FakeServer


class PsaFake(FakeServer):
    def __init__(self):
        super().__init__()
        self.tickets: dict[int, dict] = {}
        self._ids = itertools.count(1001)
        # R19.2: the PSA's companies, id → name; `default_company` 77 of make_psa is one of them.
        self.companies: dict[int, str] = {77: "Default Company"}

    def close_in_psa(self, ticket_id, by="Jane Tech"):
        """R19.1: a technician closes the ticket in the PSA."""
        with self.lock:
            self.tickets[ticket_id].update(closed=True, closed_by=by, closed_at=time.time())

    def delete_in_psa(self, ticket_id):
        """R19.1: someone deletes the ticket in the PSA."""
        with self.lock:
            del self.tickets[ticket_id]

    def companies_named(self, needle):
        """Companies whose name holds `needle`, case-insensitive, by name."""
        needle = needle.casefold()
        return sorted(((i, n) for i, n in self.companies.items() if needle in n.casefold()), key=lambda c: c[1])

    def add_ticket(self, **fields) -> int:
        with self.lock:
            ticket_id = next(self._ids)
            self.tickets[ticket_id] = {"id": ticket_id, "created": time.time(), **fields}
        return ticket_id

    def add_note(self, ticket_id, text):
        """R17.1: a note on a ticket; answers False when there is no such ticket."""
        with self.lock:
            if ticket_id not in self.tickets:
                return False
            self.tickets[ticket_id].setdefault("notes", []).append(text)
        return True

    def titles(self):
        return sorted(t["title"] for t in self.tickets.values())

    def matching(self, needle):
        """Tickets whose title holds `needle` exactly (for the tests' own reading)."""
        return [t for t in self.tickets.values() if needle in t["title"]]

    def containing(self, needle):
        """The vendor's `contains`: a case-insensitive substring, oldest ticket first."""
        needle = needle.casefold()
        return [t for t in sorted(self.tickets.values(), key=lambda t: t["id"]) if needle in t["title"].casefold()]


def sql_like(pattern: str) -> re.Pattern:
    """SQL Server's LIKE as a regex: `%` any run, `_` one character, `[abc]` / `[a-z]` / `[^a]` one
    character of (or not of) a class; everything else literal; case-insensitive (the default
    collation). A range whose ends are reversed matches nothing, as in SQL Server."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        end = pattern.find("]", i + 2) if ch == "[" else -1
        if ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        elif ch == "[" and end != -1:
            body, i = pattern[i + 1:end], end
            negate = body.startswith("^")
            members, j = [], 1 if negate else 0
            while j < len(body):
                if j + 2 < len(body) and body[j + 1] == "-":
                    if body[j].casefold() <= body[j + 2].casefold():
                        members.append(f"{re.escape(body[j])}-{re.escape(body[j + 2])}")
                    j += 3
                else:
                    members.append(re.escape(body[j]))
                    j += 1
            out.append(f"[{'^' if negate else ''}{''.join(members)}]" if members else ("." if negate else "(?!)"))
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


class ConnectWiseFake(PsaFake):
    company_id, public_key, private_key, client_id = "msp", "pub", "priv", "0f0e-guid"
    codebase = "v4_6_release/"

    def credentials(self):
        return {"company_id": self.company_id, "public_key": self.public_key,
                "private_key": self.private_key, "client_id": self.client_id}

    def authorized(self, request):
        if not request.path.startswith(f"/{self.codebase}apis/3.0"):
            return True  # the company lookup is open; other routes answer 404
        token = base64.b64encode(f"{self.company_id}+{self.public_key}:{self.private_key}".encode()).decode()
        return request.headers.get("Authorization") == f"Basic {token}" and request.headers.get("clientId") == self.client_id

    def error_body(self, status, request):
        if status == 401:
            return {"code": "Unauthorized", "message": "Invalid credentials"}
        return super().error_body(status, request)

    def route(self, request):
        if request.path == f"/login/companyinfo/{self.company_id}":
            return 200, {"CompanyName": "MSP", "Codebase": self.codebase, "VersionCode": "v2024.1"}
        prefix = f"/{self.codebase}apis/3.0"
        if not request.path.startswith(prefix):
            return 404, {"code": "NotFound", "message": "no such route"}
        path, method = request.path[len(prefix):], request.method
        if path == "/service/boards" and method == "GET":
            return 200, [{"id": 1, "name": "Help Desk"}]
        if path == "/service/tickets" and method == "GET" and request.arg("conditions").startswith("id in "):
            return self._read(request)
        if path == "/company/companies" and method == "GET":
            return self._companies(request)
        if path == "/service/tickets" and method == "GET":
            match = re.match(r'summary like "((?:[^"\\]|\\.)*)"', request.arg("conditions"))
            if not match:
                return 400, {"code": "InvalidObject", "message": "conditions not understood"}
            like = sql_like(match.group(1).replace('\\"', '"'))
            found = [t for t in sorted(self.tickets.values(), key=lambda t: t["id"]) if like.fullmatch(t["title"])]
            size = int(request.arg("pageSize") or 25)
            return 200, [{"id": t["id"], "summary": t["title"]} for t in found[:size]]
        if path == "/service/tickets" and method == "POST":
            return self._create(request.json())
        found = re.fullmatch(r"/service/tickets/(\d+)", path)
        if found and method == "PATCH":
            return self._patch(int(found.group(1)), request.json())
        found = re.fullmatch(r"/service/tickets/(\d+)/notes", path)
        if found and method == "GET":
            if int(found.group(1)) not in self.tickets:
                return 404, {"code": "NotFound", "message": "ticket not found"}
            notes = list(enumerate(self.tickets[int(found.group(1))].get("notes", []), 1))[::-1]  # orderBy=id desc
            return 200, [{"id": n, "text": text} for n, text in notes[:int(request.arg("pageSize") or 25)]]
        if found and method == "POST":
            if not self.add_note(int(found.group(1)), (request.json() or {}).get("text", "")):
                return 404, {"code": "NotFound", "message": "ticket not found"}
            self.after_acting()
            return 201, {"id": len(self.tickets[int(found.group(1))]["notes"])}
        return 404, {"code": "NotFound", "message": "no such route"}

    def _create(self, body):
        summary = body.get("summary") or ""
        if not summary or len(summary) > 100 or "board" not in body or "company" not in body:
            return 400, {"code": "InvalidObject", "message": "ticket object is invalid",
                         "errors": [{"code": "InvalidField", "field": "summary", "resource": "ticket"}]}
        ticket_id = self.add_ticket(
            title=summary, description=body.get("initialDescription", ""), company=str(body["company"]["id"]),
            board=body["board"]["id"], status=(body.get("status") or {}).get("id", "new"),
            priority=(body.get("priority") or {}).get("id"),
        )
        self.after_acting()
        return 201, {"id": ticket_id, "summary": summary}

    def _read(self, request):
        """R19.1: `conditions=id in (1,2,3)` → those tickets that exist, with status and closing."""
        ids = _id_list(request.arg("conditions"))
        if ids is None:
            return 400, {"code": "InvalidObject", "message": "conditions not understood"}
        rows = []
        for ticket_id in ids:
            t = self.tickets.get(ticket_id)
            if t is not None:
                closed = bool(t.get("closed"))
                rows.append({"id": ticket_id, "status": {"id": 9 if closed else 1, "name": "Closed" if closed else "New"},
                             "closedFlag": closed, "closedBy": t.get("closed_by") if closed else None,
                             "closedDate": _iso(t.get("closed_at"))})
        return 200, rows

    def _companies(self, request):
        """R19.2: `name like "%…%" and deletedFlag=false` or `id in (…) and deletedFlag=false`."""
        conditions = request.arg("conditions")
        size = int(request.arg("pageSize") or 25)
        if conditions.startswith("id in "):
            ids = _id_list(conditions) or []
            found = [(i, self.companies[i]) for i in ids if i in self.companies]
        else:
            match = re.match(r'name like "((?:[^"\\]|\\.)*)"', conditions)
            if not match:
                return 400, {"code": "InvalidObject", "message": "conditions not understood"}
            like = sql_like(match.group(1).replace('\\"', '"'))
            found = sorted(((i, n) for i, n in self.companies.items() if like.fullmatch(n)), key=lambda c: c[1])
        return 200, [{"id": i, "identifier": re.sub(r"\W", "", n)[:25], "name": n} for i, n in found[:size]]

    def _patch(self, ticket_id, operations):
        if ticket_id not in self.tickets:
            return 404, {"code": "NotFound", "message": "ticket not found"}
        for op in operations:
            if op.get("op") == "replace" and op.get("path") == "status":
                self.tickets[ticket_id]["status"] = op["value"]["id"]
        return 200, {"id": ticket_id}


class AutotaskFake(PsaFake):
    username, secret, code = "api@msp.example", "s3cret", "TRACKING-CODE"

    def __init__(self):
        super().__init__()
        self.resources: dict[int, str] = {}  # resource id → "First Last"

    def close_in_psa(self, ticket_id, by="Jane Tech"):
        """Autotask names the closer by resource id; the resource carries the name."""
        super().close_in_psa(ticket_id, by)
        with self.lock:
            resource_id = next((i for i, n in self.resources.items() if n == by), 29680000 + len(self.resources))
            self.resources[resource_id] = by
            self.tickets[ticket_id].update(status=5, resource=resource_id)

    @staticmethod
    def _items(items):
        return {"items": items, "pageDetails": {"count": len(items)}}

    @staticmethod
    def _ticket(t):
        return {"id": t["id"], "title": t["title"], "status": t.get("status"),
                "completedDate": _iso(t.get("closed_at")), "completedByResourceID": t.get("resource")}

    def _companies(self, body):
        """R19.2: `companyName contains` (and `isActive eq true`), or `id in [...]`."""
        ids = _in_filter(body)
        if ids is not None:
            found = [(i, self.companies[i]) for i in ids if i in self.companies]
        else:
            name = next((f for f in body.get("filter", []) if f.get("field") == "companyName"), {})
            if name.get("op") != "contains":
                return 500, {"errors": ["the fake answers only a companyName contains query"]}
            found = self.companies_named(name.get("value", ""))[: int(body.get("MaxRecords") or 500)]
        return 200, self._items([{"id": i, "companyName": n, "isActive": True} for i, n in found])

    def credentials(self):
        return {"username": self.username, "secret": self.secret, "integration_code": self.code}

    def authorized(self, request):
        if not request.path.startswith("/ATServicesRest/V1.0/"):
            return True  # the zone lookup is open; other routes answer 404
        h = request.headers
        return (h.get("ApiIntegrationCode"), h.get("UserName"), h.get("Secret")) == (self.code, self.username, self.secret)

    def error_body(self, status, request):
        return {"errors": ["Unauthorized"]} if status == 401 else super().error_body(status, request)

    def route(self, request):
        path, method = request.path, request.method
        if path == "/atservicesrest/v1.0/zoneInformation":
            if request.arg("user") != self.username:
                return 404, {"errors": ["unknown user"]}
            return 200, {"zoneName": "Fake Zone", "url": f"{self.url}/ATServicesRest/", "webUrl": self.url, "ci": 1}
        if not path.startswith("/ATServicesRest/V1.0/"):
            return 404, {"errors": ["no such route"]}
        path = path[len("/ATServicesRest/V1.0"):]
        if path == "/Tickets/entityInformation/fields":
            return 200, {"fields": [{"name": "status"}, {"name": "priority"}, {"name": "queueID"}]}
        if path == "/Tickets/query" and method == "POST" and _in_filter(request.json()) is not None:
            return 200, self._items([self._ticket(self.tickets[i]) for i in _in_filter(request.json()) if i in self.tickets])
        if path == "/Resources/query" and method == "POST":
            ids = _in_filter(request.json()) or []
            return 200, self._items([{"id": i, "firstName": self.resources[i].split(" ")[0],
                                      "lastName": " ".join(self.resources[i].split(" ")[1:])}
                                     for i in ids if i in self.resources])
        if path == "/Companies/query" and method == "POST":
            return self._companies(request.json())
        if path == "/Tickets/query" and method == "POST":
            title = next((f for f in request.json().get("filter", []) if f.get("field") == "title"), {})
            if title.get("op") != "contains":
                return 500, {"errors": ["the fake answers only a title contains query"]}
            items = [{"id": t["id"], "title": t["title"]} for t in self.containing(title.get("value", ""))]
            return 200, {"items": items, "pageDetails": {"count": len(items)}}
        if path == "/Tickets" and method == "POST":
            body = request.json()
            if not body.get("title") or not body.get("companyID"):
                return 500, {"errors": ["companyID and title are required"]}
            ticket_id = self.add_ticket(title=body["title"], description=body.get("description", ""),
                                        company=str(body["companyID"]), status=body.get("status"),
                                        queue=body.get("queueID"), priority=body.get("priority"))
            self.after_acting()
            return 200, {"itemId": ticket_id}
        if path == "/Tickets" and method == "PATCH":
            body = request.json()
            if body.get("id") not in self.tickets:
                return 404, {"errors": ["ticket not found"]}
            self.tickets[body["id"]]["status"] = body.get("status")
            return 200, {"itemId": body["id"]}
        found = re.fullmatch(r"/Tickets/(\d+)/Notes", path)
        if found and method == "GET":
            if int(found.group(1)) not in self.tickets:
                return 404, {"errors": ["ticket not found"]}
            notes = self.tickets[int(found.group(1))].get("notes", [])
            return 200, {"items": [{"id": n, "description": text} for n, text in enumerate(notes, 1)],
                         "pageDetails": {"count": len(notes), "nextPageUrl": None}}
        if found and method == "POST":
            if not self.add_note(int(found.group(1)), (request.json() or {}).get("description", "")):
                return 404, {"errors": ["ticket not found"]}
            self.after_acting()
            return 200, {"itemId": len(self.tickets[int(found.group(1))]["notes"])}
        return 404, {"errors": ["no such route"]}


class BmsFake(PsaFake):
    """Kaseya BMS and Vorex: one API."""

    username, password, tenant = "api-user", "pa55", "msp-tenant"
    token = "bms-access-token"

    def credentials(self):
        return {"username": self.username, "password": self.password, "tenant": self.tenant}

    def authorized(self, request):
        if request.path == "/v2/security/authenticate" and request.method == "POST":
            return True  # the login checks the body itself
        return request.headers.get("Authorization") == f"Bearer {self.token}"

    def error_body(self, status, request):
        if status == 401:
            return {"Message": "Authorization has been denied for this request."}
        return super().error_body(status, request)

    def route(self, request):
        path, method = request.path, request.method
        if path == "/v2/security/authenticate" and method == "POST":
            body = request.json() or {}
            if (body.get("UserName"), body.get("Password"), body.get("TenantName")) != (
                self.username, self.password, self.tenant
            ):
                return 401, {"Message": "Invalid credentials"}
            return 200, {"Result": {"AccessToken": self.token, "RefreshToken": "r", "ExpiresIn": 3600}}
        if path == "/v2/servicedesk/tickets/search" and method == "POST":
            needle = (request.json().get("Filter") or {}).get("Title", "")
            rows = [{"Id": t["id"], "Title": t["title"]} for t in self.containing(needle)]
            return 200, {"Result": rows, "TotalRecords": len(rows)}
        if path == "/v2/servicedesk/tickets" and method == "POST":
            body = request.json()
            if not body.get("Title") or not body.get("AccountId"):
                return 400, {"Message": "Title and AccountId are required"}
            ticket_id = self.add_ticket(title=body["Title"], description=body.get("Details", ""),
                                        company=str(body["AccountId"]), status=body.get("StatusId"),
                                        source=body.get("SourceId"), priority=body.get("PriorityId"))
            self.after_acting()
            return 200, {"Result": {"Id": ticket_id, "TicketNumber": f"T{ticket_id}"}}
        found = re.fullmatch(r"/v2/servicedesk/tickets/(\d+)", path)
        if found and method == "GET":
            t = self.tickets.get(int(found.group(1)))
            if t is None:
                return 404, {"Message": "not found"}
            closed = bool(t.get("closed"))
            return 200, {"Result": {"Id": t["id"], "Title": t["title"], "StatusId": 9 if closed else t.get("status"),
                                    "StatusName": "Closed" if closed else "New", "ClosedDate": _iso(t.get("closed_at")),
                                    "ClosedBy": t.get("closed_by") if closed else None}}
        if path == "/v2/crm/accounts" and method == "GET":
            match = re.fullmatch(r"contains\(AccountName,'((?:[^']|'')*)'\)", request.arg("$filter"))
            if not match:
                return 400, {"Message": "the fake answers only $filter=contains(AccountName,'…')"}
            found = self.companies_named(match.group(1).replace("''", "'"))[: int(request.arg("$top") or 50)]
            return 200, {"Result": [{"Id": i, "AccountName": n} for i, n in found], "TotalRecords": len(found)}
        account = re.fullmatch(r"/v2/crm/accounts/(\d+)", path)
        if account and method == "GET":
            company_id = int(account.group(1))
            if company_id not in self.companies:
                return 404, {"Message": "not found"}
            return 200, {"Result": {"Id": company_id, "AccountName": self.companies[company_id]}}
        if found and method == "PATCH":
            ticket_id = int(found.group(1))
            if ticket_id not in self.tickets:
                return 404, {"Message": "not found"}
            for op in request.json():
                if op.get("path") == "/StatusId":
                    self.tickets[ticket_id]["status"] = op["value"]
            return 200, {"Result": {"Id": ticket_id}}
        found = re.fullmatch(r"/v2/servicedesk/tickets/(\d+)/notes", path)
        if found and method == "GET":
            if int(found.group(1)) not in self.tickets:
                return 404, {"Message": "not found"}
            notes = self.tickets[int(found.group(1))].get("notes", [])
            return 200, {"Result": [{"Id": n, "Details": text} for n, text in enumerate(notes, 1)]}
        if found and method == "POST":
            if not self.add_note(int(found.group(1)), (request.json() or {}).get("Details", "")):
                return 404, {"Message": "not found"}
            self.after_acting()
            return 200, {"Result": {"Id": len(self.tickets[int(found.group(1))]["notes"])}}
        return 404, {"Message": "no such route"}


def _id_list(conditions: str):
    """The ids of ConnectWise's `id in (1,2,3)` (what follows it is ignored), else None."""
    match = re.match(r"id in \(([\d,\s]*)\)", conditions)
    return [int(i) for i in match.group(1).split(",") if i.strip()] if match else None


def _in_filter(body):
    """The ids of an Autotask `{"op": "in", "field": "id", "value": [...]}` filter, else None."""
    rule = next((f for f in (body or {}).get("filter", []) if f.get("field") == "id" and f.get("op") == "in"), None)
    return [int(i) for i in rule.get("value", [])] if rule else None


def _iso(stamp):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp)) if stamp else None


FAKES = {"connectwise": ConnectWiseFake, "autotask": AutotaskFake, "bms": BmsFake, "vorex": BmsFake}


def integration_base_url(kind, fake) -> str:
    """What a user would type as the integration's base URL, pointed at the fake."""
    return f"{fake.url}/atservicesrest/" if kind == "autotask" else fake.url


def make_psa(account, kind, fake, **options):
    """A PSA integration of `account` pointed at `fake`, with a default company and board."""
    from integrations.models import Integration  # noqa: PLC0415

    values = {"default_company": "77", "board": "1", "status": "1", "priority": "3", "closed_status": "9",
              "rate_per_minute": "60000"}
    values.update(options)
    return Integration.objects.create(
        account=account, kind=kind, name=f"{kind} fake", base_url=integration_base_url(kind, fake),
        credentials=fake.credentials(), options=values,
    )
