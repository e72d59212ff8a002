"""Fake Spanning APIs (Microsoft 365, Google Workspace, Salesforce) on loopback (VENDOR_APIS.md);
contract: integrations/spanning/FAKE.md, knobs: fakes.base.

Set a day with `fake.set_day(date, "Partial")` (one service carries the status, the
rest succeed) or `fake.days[date] = {"MAIL": "Failed", ...}`; `extra_rows` are sent
as they are, for malformed-data tests.
"""

from datetime import UTC, date, datetime

from fakes.base import BasicAuthFake

M365_CODES = ("MAIL", "CALENDAR", "CONTACT", "DRIVE", "SPSITE", "TEAMS")
GWS_CODES = ("SITE", "DOCUMENT", "MAIL", "CALENDAR", "CONTACT")


def _day_of(ms: str) -> date:
    return datetime.fromtimestamp(int(ms) / 1000, tz=UTC).date()


def _counts(status: str) -> dict:
    return {
        "total": 10,
        "failed": 1 if status == "Failed" else 0,
        "partial": 1 if status == "Partial" else 0,
        "successful": 9 if status != "Successful" else 10,
    }


class _Summary(BasicAuthFake):
    codes: tuple = ()

    def __init__(self, username, secret):
        super().__init__(username, secret)
        self.days: dict[date, dict] = {}
        self.extra_rows: list = []

    def set_day(self, day: date, status: str, service=None):
        service = service or self.codes[0]
        self.days[day] = {code: (status if code == service else "Successful") for code in self.codes}

    def summary(self, query):
        try:
            start, end = _day_of(query["start"]), _day_of(query["end"])
        except (KeyError, ValueError):
            return 400, {"message": "start and end (epoch ms) are required"}
        if (end - start).days > 7:
            return 400, {"message": "at most 7 days"}
        rows = [
            {"date": day.strftime("%m/%d/%Y"), "type": code, "backup": _counts(status)}
            for day, services in sorted(self.days.items()) if start <= day <= end
            for code, status in services.items()
        ]
        return 200, rows + list(self.extra_rows)


class M365Fake(_Summary):
    codes = M365_CODES
    prefix = "/external"

    def __init__(self, username="admin@contoso.example", secret="m365-token"):
        super().__init__(username, secret)
        self.tenant = {"licenses": 50, "users": 42, "assigned": 40, "status": "paid"}
        self.user_rows = [{"userPrincipalName": f"u{i}@contoso.example", "msId": str(i), "assigned": True,
                           "isAdmin": i == 0, "isDeleted": False} for i in range(5)]
        self.page_size = 2

    def read(self, path, query):
        if path == "/external/tenant":
            return 200, self.tenant
        if path == "/external/tenant/backups/summary":
            return self.summary(query)
        if path == "/external/users":
            offset = int(query.get("offset", 0))
            page = self.user_rows[offset:offset + self.page_size]
            more = offset + self.page_size < len(self.user_rows)
            link = f"{self.url}/external/users?size=1000&offset={offset + self.page_size}" if more else ""
            return 200, {"users": page, "nextLink": link}
        return 404, {"message": "not found"}


class GoogleFake(_Summary):
    codes = GWS_CODES
    prefix = "/api/v1"

    def __init__(self, username="example.org", secret="gws-token"):
        super().__init__(username, secret)
        self.user_rows = [
            {"type": "user", "email": "a@example.org", "licensed": True, "archived": False},
            {"type": "user", "email": "b@example.org", "licensed": True, "archived": False},
            {"type": "user", "email": "c@example.org", "licensed": False, "archived": True},
        ]

    def read(self, path, query):
        if path == "/api/v1/users":
            return 200, self.user_rows
        if path == "/api/v1/domain/backups/summary":
            return self.summary(query)
        return 404, {"message": "not found"}


class SalesforceFake(BasicAuthFake):
    prefix = "/api/v1"

    def __init__(self, username="admin@sf.example", secret="sf-token"):
        super().__init__(username, secret)
        self.orgs = [{"orgId": "00D000000000001", "name": "Contoso Sales"}]
        self.backups: dict[str, dict[date, str]] = {"00D000000000001": {}}
        self.extra_rows: list = []

    def read(self, path, query):
        if path == "/api/v1/orgs":
            return 200, self.orgs
        parts = path.split("/")
        if len(parts) == 6 and parts[3] == "orgs" and parts[5] == "backups":
            days = self.backups.get(parts[4])
            if days is None:
                return 404, {"message": "no such org"}
            start, end = _day_of(query["start"]), _day_of(query["end"])
            rows = [
                {"date": d.strftime("%m/%d/%Y"), "status": s,
                 "startedAt": f"{d.isoformat()}T01:00:00Z", "completedAt": f"{d.isoformat()}T02:00:00Z"}
                for d, s in sorted(days.items()) if start <= d <= end
            ]
            return 200, rows + list(self.extra_rows)
        return 404, {"message": "not found"}
