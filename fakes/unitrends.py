"""A Unitrends appliance REST API on loopback (VENDOR_APIS.md § Unitrends), for tests, the demo and the
benchmarks; its contract: integrations/unitrends/FAKE.md.

One `UnitrendsFake` serves one or more appliances: the appliance at prefix "" answers
`/api/...`, the one at prefix "acme" answers `/acme/api/...` (`fake.appliance_url("acme")`).
The knobs are those of `fakes.base` and act on the whole server; `paths=` of `server_error`
and `garbage` are the API paths below an appliance's prefix (`/api/catalog`), and
`drop_after_acting` drops the answer of a job cancel after it has acted.
"""

import json
import secrets
import threading
from datetime import UTC, datetime, timedelta

from fakes.base import FakeServer

DATED = {"/api/jobs/history", "/api/catalog", "/api/replication/queue", "/api/archive/history"}


class FakeAppliance:
    """The appliance's data, in the vendor's shapes."""

    def __init__(self, name="ueb-01", version="10.8.2", username="root", password="unitrends1"):
        self.username, self.password = username, password
        self.system = {"id": 1, "name": name, "host": f"{name}.lan", "role": "Backup System",
                       "status": "online", "local": True, "version": version}
        self.storage = [{"name": "internal", "system_name": name, "type": "internal", "usage": "backup",
                         "mb_size": 4_000_000, "mb_free": 2_000_000, "is_online": True}]
        self.eligible_backups = 5
        self.assets, self.joborders, self.history, self.catalog_sizes = [], [], [], {}
        self.hot_copies, self.cold_copies, self.certifications, self.alerts = [], [], [], []
        self.active_jobs: dict[int, dict] = {}
        self.cancelled: list[int] = []
        self.tokens: set[str] = set()
        self.lock = threading.Lock()

    # --- building the data --------------------------------------------------
    def add_asset(self, asset_id, name, type_="windows", ip="10.0.0.10"):
        self.assets.append({"id": asset_id, "name": name, "ip": ip, "type": type_, "children": []})

    def add_schedule(self, order_id, name, instances, rrule, dtstart="20261001T220000", type_="Backup"):
        self.joborders.append({
            "id": order_id, "name": name, "type": type_, "last_status": "Success", "status": "active",
            "schedule": f"DTSTART:{dtstart}\nRRULE:{rrule}", "instances": list(instances),
        })

    def leave_schedule(self, order_id, instance_id):
        """The asset leaves the job order (as when it is taken out of it on the appliance)."""
        order = next(o for o in self.joborders if o["id"] == order_id)
        order["instances"] = [i for i in order["instances"] if i != instance_id]

    def add_backup(self, backup_id, instance_id, start, minutes=30, status="Success", mode="Incremental",
                   size_mb=1024, message=""):
        asset = next(a for a in self.assets if a["id"] == instance_id)
        self.history.append({
            "instance_id": instance_id, "backup_id": backup_id, "name": f"Backup {asset['name']}",
            "status": status, "mode": mode, "start_date": start.strftime("%m/%d/%Y"),
            "start_time": start.strftime("%H:%M:%S"), "sort_start_time": int(start.timestamp()),
            "duration": f"{minutes // 60:02d}:{minutes % 60:02d}:00", "client_name": asset["name"],
            "asset_name": asset["name"], "message": message,
        })
        self.catalog_sizes[backup_id] = size_mb

    def add_copy(self, hot, instance_id, backup_id, start, minutes=20, status="Success", target=None):
        rows = self.hot_copies if hot else self.cold_copies
        rows.append({
            "instance_id": instance_id, "backup_id": backup_id, "status": status,
            "start_time": int(start.timestamp()), "end_time": int(start.timestamp()) + minutes * 60,
            "target": target or ("Unitrends Cloud" if hot else "Tape library"),
        })

    def add_job(self, job_id, instance_name, percent=40, status="Running", name=None):
        self.active_jobs[job_id] = {"id": job_id, "name": name or f"Backup {instance_name}", "status": status,
                                    "percent_complete": percent, "instance_name": instance_name}

    def add_alert(self, alert_id, category, message, severity="warning", created=None):
        created = created or datetime.now(UTC)
        self.alerts.append({"id": alert_id, "sname": self.system["name"], "severity": severity,
                            "category": category, "created": created.strftime("%m/%d/%Y %H:%M:%S"),
                            "message": message})

    # --- answering ----------------------------------------------------------
    def answer(self, method, path, query, headers, body):
        if method == "POST" and path == "/api/login":
            if (body or {}).get("username") != self.username or body.get("password") != self.password:
                return 401, {"result": [{"message": "Invalid username or password"}]}
            token = secrets.token_hex(16)
            self.tokens.add(token)
            return 201, {"auth_token": token}
        if headers.get("AuthToken") not in self.tokens:
            return 401, {"result": [{"message": "Not authorized"}]}
        return self._route(method, path, query)

    def _route(self, method, path, query):
        since = _since(query.get("start_date"))
        if method == "PUT" and path.startswith("/api/jobs/") and path.endswith("/cancel"):
            return self._cancel(path.split("/")[3])
        routes = {
            "/api/systems": lambda: {"appliance": [self.system]},
            "/api/storage": lambda: {"storage": self.storage},
            "/api/storage/purge": lambda: {"eligible_backups": self.eligible_backups},
            "/api/assets": lambda: {"data": self.assets},
            "/api/joborders": lambda: {"data": self.joborders},
            "/api/jobs/active": lambda: {"data": list(self.active_jobs.values())},
            "/api/jobs/history": lambda: {"data": [h for h in self.history if _dated(h, "sort_start_time", since)]},
            "/api/catalog": lambda: {"catalog": {"instances": self._catalog(since)}},
            "/api/replication/queue": lambda: {"data": [c for c in self.hot_copies if _dated(c, "start_time", since)]},
            "/api/archive/history": lambda: {"data": [c for c in self.cold_copies if _dated(c, "start_time", since)]},
            "/api/certification/jobs": lambda: {"data": self.certifications},
            "/api/reports/system/alerts": lambda: {"data": self.alerts},
        }
        route = routes.get(path.rstrip("/")) if method == "GET" else None
        if route is None:
            return 404, {"result": [{"message": f"No such resource {method} {path}"}]}
        return 200, route()

    def _catalog(self, since):
        instances = {}
        for h in self.history:
            if not _dated(h, "sort_start_time", since) or "client_name" not in h:
                continue
            row = instances.setdefault(h["instance_id"], {
                "instance_id": h["instance_id"], "client_name": h["client_name"], "database_name": "",
                "app_type": "file-level", "backups": []})
            row["backups"].append({"id": h["backup_id"], "type": h["mode"], "start_date": h["start_date"],
                                   "system_name": self.system["name"],
                                   "size_mb": self.catalog_sizes.get(h["backup_id"], 0)})
        return list(instances.values())

    def _cancel(self, job_id):
        job = self.active_jobs.get(int(job_id)) if job_id.isdigit() else None
        if job is None:
            return 404, {"result": [{"message": f"No active job {job_id}"}]}
        with self.lock:
            del self.active_jobs[job["id"]]
            self.cancelled.append(job["id"])
        return 200, {"result": [{"message": f"Job {job_id} cancelled"}]}


def _dated(row, key, since) -> bool:
    """Rows the bad-data knob planted (no date, not a record) pass the filter: the client must cope."""
    return not isinstance(row, dict) or not isinstance(row.get(key), int) or row[key] >= since


def _since(text) -> int:
    if not text:
        return 0
    try:
        return int(datetime.strptime(text, "%m/%d/%Y").replace(tzinfo=UTC).timestamp())
    except ValueError:
        return 0


class UnitrendsFake(FakeServer):
    """The HTTP server; `appliances` maps a path prefix ("" or "name") to a FakeAppliance."""

    methods = ("GET", "POST", "PUT")

    def __init__(self, appliances=None, port=0):
        super().__init__(port)
        self.appliances = appliances if appliances is not None else {"": FakeAppliance()}

    @property
    def appliance(self) -> FakeAppliance:
        return self.appliances[""]

    def appliance_url(self, prefix="") -> str:
        return f"{self.url}/{prefix}" if prefix else self.url

    def find(self, path):
        """The appliance a path belongs to, and the path below its prefix."""
        head, _, rest = path.lstrip("/").partition("/")
        if head != "api" and head in self.appliances:
            return self.appliances[head], "/" + rest
        return self.appliances.get(""), path

    def local_path(self, request):
        return self.find(request.path)[1]

    def error_body(self, status, request):
        if status == 401:
            return {"result": [{"message": "Not authorized"}]}
        if status == 503:
            return {"result": [{"message": "Service unavailable"}]}
        return {"result": [{"message": f"Internal error reading {self.local_path(request)}"}]}

    def route(self, request):
        appliance, path = self.find(request.path)
        if appliance is None:
            return 404, {"result": [{"message": "No such appliance"}]}
        try:
            body = json.loads(request.raw) if request.raw else None
        except ValueError:
            body = None
        status, answer = appliance.answer(request.method, path, request.query, request.headers, body)
        if request.method == "PUT" and status == 200:
            self.after_acting()  # the cancel has acted: drop_after_acting closes the connection here
        return status, answer


T0 = datetime(2026, 11, 1, 22, 0, tzinfo=UTC)


def populate(appliance: FakeAppliance, start=T0, days=3):
    """Two assets (one hot-copied), a daily schedule, `days` of backups, copies, a certification,
    a running job and two alerts: the small known data set of the tests."""
    appliance.add_asset(101, "fs-01", "windows")
    appliance.add_asset(102, "sql-01", "sql")
    appliance.add_schedule(1, "Nightly", [101, 102], "FREQ=DAILY;BYHOUR=22;BYMINUTE=0")
    appliance.add_schedule(2, "To the cloud", [101], "FREQ=DAILY;BYHOUR=23;BYMINUTE=0", type_="Replication")
    for day in range(days):
        at = start + timedelta(days=day)
        appliance.add_backup(1000 + day, 101, at, mode="Full" if day == 0 else "Incremental", size_mb=2048 + day)
        appliance.add_backup(2000 + day, 102, at, status="Failed" if day == days - 1 else "Success",
                             message="VSS writer timed out")
        appliance.add_copy(True, 101, 1000 + day, at + timedelta(hours=1))
    appliance.add_copy(False, 102, 2000, start + timedelta(hours=2), target="AWS S3")
    appliance.certifications.append({"instance_id": 101, "status": "Success",
                                     "last_run": int((start + timedelta(hours=5)).timestamp())})
    appliance.add_job(501, "sql-01", percent=35)
    appliance.add_alert(9001, "storage", "Storage internal is 96% full", severity="critical")
    appliance.add_alert(9002, "license", "Support contract expires in 12 days")
    return appliance


def unitrends_integration(account, organization, server, password="unitrends1", name="ueb-01"):
    """A Unitrends integration of `account` pointed at the fake's appliance at prefix ""."""
    from integrations.models import Integration  # noqa: PLC0415

    return Integration.objects.create(
        account=account, kind=Integration.Kind.UNITRENDS, name=name, base_url=server.url + "/api/",
        credentials={"username": "root", "password": password}, options={"organization": organization.pk},
    )
