"""Spanning Backup clients: Microsoft 365, Google Workspace, Salesforce (VENDOR_APIS.md).

Each client answers normalised daily statuses (`DailyStatus`): one per date with
the overall status and the per-service results of R8.2. A malformed row is logged
and skipped; a malformed body raises `VendorError` so the poll fails and the
stored data stays as it was.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urljoin

from integrations import http
from integrations.http import VendorError
from tenancy.validation import clean_name

log = logging.getLogger(__name__)

REGIONS = ("us", "eu", "ap", "ca", "uk")
SUCCESSFUL, PARTIAL, FAILED = "Successful", "Partial", "Failed"
# R8.2: the vendor's service codes and the names people read.
M365_SERVICES = {
    "MAIL": "Mail", "CALENDAR": "Calendar", "CONTACT": "Contact",
    "DRIVE": "Drive", "SPSITE": "SharePoint", "TEAMS": "Teams Channel",
}
GWS_SERVICES = {
    "SITE": "Site", "DOCUMENT": "Document", "MAIL": "Mail", "CALENDAR": "Calendar", "CONTACT": "Contact",
}
WINDOW_DAYS = 7  # the summary endpoint answers 7 days at most


@dataclass
class DailyStatus:
    date: date
    status: str
    services: dict = field(default_factory=dict)


def parse_date(value) -> date:
    """Spanning writes `MM/DD/YYYY`; ISO dates are accepted too."""
    if not isinstance(value, str):
        raise ValueError(f"date {value!r} is not text")
    for fmt in ("%m/%d/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(value[:10], fmt).date()
        except ValueError:
            continue
    raise ValueError(f"date {value!r} is not MM/DD/YYYY")


def epoch_ms(day: date, end=False) -> int:
    moment = datetime.combine(day, time.max if end else time.min, tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _service_status(counts: dict) -> str:
    for key in ("failed", "partial", "successful", "total"):
        value = counts.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"backup.{key} is {value!r}")
    if counts["failed"] > 0:
        return FAILED
    return PARTIAL if counts["partial"] > 0 else SUCCESSFUL


def summarise(rows, services: dict) -> list[DailyStatus]:
    """Per-service summary rows → one status per day: Failed if any service failed, else Partial if any, else Successful.

    A row without a readable date is skipped; a row with a date but unreadable
    counts taints its whole day, which is then skipped: a day judged on part of its
    services could read Successful when it was not (never a wrong alert). An
    unknown service code is kept under its code, so a new vendor service still counts.
    """
    if not isinstance(rows, list):
        raise VendorError("Spanning answered a summary that is not a list.")
    days: dict[date, dict] = defaultdict(dict)
    tainted = set()
    for row in rows:
        try:
            day = parse_date(row["date"])
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("Spanning summary row skipped (%s): %r", exc, row)
            continue
        try:
            code, counts = row["type"], row["backup"]
            if not isinstance(code, str) or not isinstance(counts, dict):
                raise ValueError("type or backup missing")
            if code not in services:
                log.warning("Spanning summary: unknown service %r on %s, kept under its code", code, day)
            days[day][services.get(code, code)] = {
                "status": _service_status(counts), **{k: counts[k] for k in ("total", "partial", "failed", "successful")}
            }
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("Spanning summary day %s skipped, a row is unreadable (%s): %r", day, exc, row)
            tainted.add(day)
    result = []
    for day, per_service in sorted(days.items()):
        if day in tainted:
            continue
        overall = worst(s["status"] for s in per_service.values())
        result.append(DailyStatus(day, overall, per_service))
    return result


class _Client:
    vendor = "Spanning"
    host_pattern = ""
    app_pattern = ""

    def __init__(self, username, secret, region="us", base_url="", timeout=http.DEFAULT_TIMEOUT):
        if not base_url and region not in REGIONS:
            raise VendorError(f"Unknown Spanning region {region!r}; use one of {', '.join(REGIONS)}.")
        self.base_url = (base_url or self.host_pattern.format(region=region)).rstrip("/")
        self.app_url = self.app_pattern.format(region=region)
        # VENDOR_APIS: honour Retry-After, at most 3 tries per call.
        self.http = http.session(retries=2, timeout=timeout)
        self.http.auth = (username, secret)

    def get(self, path, **params):
        return http.get_json(self.http, self.base_url + path, self.vendor, params=params or None)

    def summary_range(self, start: date, end: date) -> dict:
        start = max(start, end - timedelta(days=WINDOW_DAYS - 1))
        return {"start": epoch_ms(start), "end": epoch_ms(end, end=True)}


class M365Client(_Client):
    vendor = "Spanning Microsoft 365"
    host_pattern = "https://o365-api-{region}.spanningbackup.com/external"
    app_pattern = "https://o365-{region}.spanningbackup.com"

    def tenant(self) -> dict:
        body = self.get("/tenant")
        if not isinstance(body, dict):
            raise VendorError("Spanning answered a tenant that is not an object.")
        return body

    def daily_statuses(self, start: date, end: date) -> list[DailyStatus]:
        return summarise(self.get("/tenant/backups/summary", **self.summary_range(start, end)), M365_SERVICES)

    def users(self) -> list[dict]:
        """Every user, following `nextLink` on the same host until a page has none."""
        url, found = self.base_url + "/users?size=1000", []
        for _ in range(1000):  # a bound, in case a vendor bug loops
            body = http.get_json(self.http, url, self.vendor)
            if not isinstance(body, dict) or not isinstance(body.get("users", []), list):
                raise VendorError("Spanning answered a users page that is not an object with users.")
            found.extend(u for u in body.get("users", []) if isinstance(u, dict))
            url = body.get("nextLink") or ""
            if not url:
                return found
            url = urljoin(self.base_url + "/", url)
            if http.origin(url) != http.origin(self.base_url):  # the session's own redirect rule
                raise VendorError("Spanning pointed the next users page at another host.")
        raise VendorError("Spanning users pages did not end.")


class GoogleClient(_Client):
    vendor = "Spanning Google Workspace"
    host_pattern = "https://api-{region}.spanningbackup.com/api/v1"
    app_pattern = "https://app-{region}.spanningbackup.com"

    def users(self) -> list[dict]:
        body = self.get("/users")
        if not isinstance(body, list):
            raise VendorError("Spanning answered users that are not a list.")
        return [u for u in body if isinstance(u, dict)]

    def daily_statuses(self, start: date, end: date) -> list[DailyStatus]:
        return summarise(self.get("/domain/backups/summary", **self.summary_range(start, end)), GWS_SERVICES)


class SalesforceClient(_Client):
    vendor = "Spanning Salesforce"
    host_pattern = "https://salesforce-api-{region}.spanningbackup.com/api/v1"
    app_pattern = "https://salesforce-{region}.spanningbackup.com"

    def orgs(self) -> list[dict]:
        body = self.get("/orgs")
        if not isinstance(body, list):
            raise VendorError("Spanning answered orgs that are not a list.")
        orgs = []
        for row in body:
            if isinstance(row, dict) and isinstance(row.get("orgId"), str) and row["orgId"]:
                orgs.append({"orgId": row["orgId"], "name": clean_name(row.get("name") or "", 200) or str(row["orgId"])})
            else:
                log.warning("Spanning Salesforce org skipped (no orgId): %r", row)
        return orgs

    def daily_statuses(self, org_id: str, start: date, end: date) -> list[DailyStatus]:
        body = self.get(f"/orgs/{org_id}/backups", **self.summary_range(start, end))
        if not isinstance(body, list):
            raise VendorError("Spanning answered backups that are not a list.")
        days, tainted = {}, set()
        for row in body:
            try:
                day = parse_date(row["date"])
            except (KeyError, TypeError, ValueError) as exc:
                log.warning("Spanning Salesforce backup row skipped (%s): %r", exc, row)
                continue
            status = row.get("status")
            if status not in (SUCCESSFUL, PARTIAL, FAILED):
                log.warning("Spanning Salesforce day %s skipped, unknown status %r", day, status)
                tainted.add(day)
            else:
                days[day] = worst([status, days.get(day, SUCCESSFUL)])  # several runs a day: the worst
        return [DailyStatus(day, status, {}) for day, status in sorted(days.items()) if day not in tainted]


def worst(statuses) -> str:
    """The worst of a day's statuses: Failed over Partial over Successful."""
    return max(statuses, key=[SUCCESSFUL, PARTIAL, FAILED].index, default=SUCCESSFUL)
