"""A client for the Unitrends appliance REST API (VENDOR_APIS.md § Unitrends).

Login gives a token sent as the `AuthToken` header; a 401 later means the token
expired, so the client logs in again once. Answers come back in the vendor's
shapes (the roots below are the one place that knows them); turning them into
inventory is `integrations.unitrends.poller`'s job.
"""

from datetime import date

import requests

from integrations import http

VENDOR = "Unitrends appliance"


class Unreachable(http.VendorError):
    """The appliance did not answer usefully: refused, timed out, 5xx or a body that is not JSON."""

    reason = "unreachable"


class UnitrendsClient:
    def __init__(self, base_url, username, password, verify=True, retries=2, timeout=http.DEFAULT_TIMEOUT):
        # VENDOR_APIS.md: base `https://{appliance}/api/`; accept it with or without `/api`.
        self.base = base_url.rstrip("/").removesuffix("/api")
        self.username, self.password = username, password
        self.session = http.session(retries=retries, timeout=timeout)
        self.session.verify = verify  # self-signed certificates: off only when chosen (per appliance)
        self.token = None

    @classmethod
    def for_integration(cls, integration, **kwargs):
        credentials = integration.credentials or {}
        options = integration.options or {}
        return cls(
            integration.base_url, credentials.get("username", ""), credentials.get("password", ""),
            verify=options.get("verify_tls", True) is not False, **kwargs,
        )

    # --- transport --------------------------------------------------------------
    def login(self) -> None:
        body = self._call("POST", "/api/login", json={"username": self.username, "password": self.password},
                          authenticated=False)
        token = body.get("auth_token") if isinstance(body, dict) else None
        if not token:
            raise Unreachable(f"{VENDOR} answered the login without a token.")
        self.token = token

    def _call(self, method, path, authenticated=True, **kwargs):
        if authenticated and self.token is None:
            self.login()
        for attempt in (1, 2):
            headers = {"AuthToken": self.token} if authenticated else {}
            try:
                response = self.session.request(method, self.base + path, headers=headers,
                                                allow_redirects=False, **kwargs)
            except requests.RequestException as exc:
                raise Unreachable(http.unreachable(VENDOR, exc)) from exc
            if response.status_code == 401 and authenticated and attempt == 1:
                self.login()  # the token expired: log in again, once
                continue
            try:
                return http.json_or_raise(response, VENDOR)
            except http.InvalidCredentials:
                raise
            except http.VendorError as exc:
                raise Unreachable(f"{exc} ({_messages(response)})", exc.status) from exc
        raise AssertionError("unreachable")

    def _get(self, path, root, since: date | None = None, **params):
        if since is not None:
            params["start_date"] = since.strftime("%m/%d/%Y")
        body = self._call("GET", path, params=params or None)
        value = body
        for key in root:
            if not isinstance(value, dict) or key not in value:
                raise Unreachable(f"{VENDOR} answered {path} without {'.'.join(root)}.")
            value = value[key]
        return value

    # --- reads (VENDOR_APIS.md table) -------------------------------------------
    def systems(self) -> list[dict]:
        return _rows(self._get("/api/systems/", ("appliance",)))

    def local_system(self) -> dict:
        systems = self.systems()
        local = [s for s in systems if s.get("local")] or systems
        if not local:
            raise Unreachable(f"{VENDOR} lists no systems.")
        return local[0]

    def storage(self) -> list[dict]:
        return _rows(self._get("/api/storage", ("storage",)))

    def purge_eligible_backups(self) -> int:
        value = self._get("/api/storage/purge", ("eligible_backups",))
        if not isinstance(value, int) or value < 0:
            raise Unreachable(f"{VENDOR} answered an unreadable count of backups eligible for purging.")
        return value

    def assets(self) -> list[dict]:
        return _rows(self._get("/api/assets", ("data",)))

    def job_orders(self) -> list[dict]:
        return _rows(self._get("/api/joborders", ("data",)))

    def active_jobs(self) -> list[dict]:
        return _rows(self._get("/api/jobs/active", ("data",)))

    def job_history(self, since: date | None) -> list[dict]:
        return _rows(self._get("/api/jobs/history", ("data",), since=since, showFlat="true"))

    def catalog(self, since: date | None) -> list[dict]:
        return _rows(self._get("/api/catalog", ("catalog", "instances"), since=since))

    def hot_copies(self, since: date | None) -> list[dict]:
        return _rows(self._get("/api/replication/queue", ("data",), since=since))

    def cold_copies(self, since: date | None) -> list[dict]:
        return _rows(self._get("/api/archive/history", ("data",), since=since))

    def certifications(self) -> list[dict]:
        return _rows(self._get("/api/certification/jobs", ("data",)))

    def alerts(self) -> list[dict]:
        return _rows(self._get("/api/reports/system/alerts", ("data",)))

    # --- the one write -----------------------------------------------------------
    def cancel_job(self, job_id) -> None:
        """R12.2: ask the appliance to cancel a running job ([ours]: PUT /api/jobs/{id}/cancel)."""
        self._call("PUT", f"/api/jobs/{int(job_id)}/cancel")


def _rows(value) -> list[dict]:
    if not isinstance(value, list):
        raise Unreachable(f"{VENDOR} answered a list that is not a list.")
    return [row for row in value if isinstance(row, dict)]


def _messages(response) -> str:
    """The vendor's error messages (a `result` array), for the person reading the sync error."""
    try:
        result = response.json().get("result", [])
        return "; ".join(str(m.get("message", m)) if isinstance(m, dict) else str(m) for m in result)[:300]
    except (ValueError, AttributeError):
        return "no details"

