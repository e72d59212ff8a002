"""A Unitrends appliance REST API on loopback (VENDOR_APIS.md § Unitrends), for tests and the demo.

One `ThreadingHTTPServer` serves one or more appliances: the appliance at prefix
"" answers `/api/...`, the one at prefix "acme" answers `/acme/api/...`.
Knobs on each `FakeAppliance` (VENDOR_APIS.md): `outage` (503 for everything),
`delay` (seconds before answering), `fail_paths` (500 on these API paths: a sync
that fails halfway), `garbage_paths` (a body that is not JSON), `drop_after_cancel`
(close the connection after the cancel has acted). Every request is logged in
`requests` as (method, path, query).
"""

import json
import secrets
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

DATED = {"/api/jobs/history", "/api/catalog", "/api/replication/queue", "/api/archive/history"}


class FakeAppliance:
    """The appliance's data, in the vendor's shapes, plus the knobs."""

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
        self.outage = False
        self.delay = 0.0
        self.fail_paths: set[str] = set()
        self.garbage_paths: set[str] = set()
        self.drop_after_cancel = False
        self.requests: list[tuple] = []
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
        with self.lock:
            self.requests.append((method, path, dict(query)))
        if self.delay:
            time.sleep(self.delay)
        if self.outage:
            return 503, {"result": [{"message": "Service unavailable"}]}
        if path in self.fail_paths:
            return 500, {"result": [{"message": f"Internal error reading {path}"}]}
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


class FakeApplianceServer:
    """The HTTP server; `appliances` maps a path prefix ("" or "name") to a FakeAppliance."""

    def __init__(self, appliances=None, port=0):
        self.appliances = appliances if appliances is not None else {"": FakeAppliance()}
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def appliance(self) -> FakeAppliance:
        return self.appliances[""]

    def url(self, prefix="") -> str:
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        return f"{base}/{prefix}" if prefix else base

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def find(self, path):
        """The appliance a path belongs to, and the path below its prefix."""
        head, _, rest = path.lstrip("/").partition("/")
        if head != "api" and head in self.appliances:
            return self.appliances[head], "/" + rest
        return self.appliances.get(""), path


def _handler(fake_server):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        wbufsize = -1  # headers and body leave in one write (no Nagle/delayed-ACK stall per request)

        def _serve(self):
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            appliance, path = fake_server.find(parts.path)
            if appliance is None:
                return self._send(404, {"result": [{"message": "No such appliance"}]})
            status, answer = appliance.answer(self.command, path, query, self.headers, body)
            if self.command == "PUT" and appliance.drop_after_cancel and status == 200:
                self.close_connection = True  # acted, then the connection drops (VENDOR_APIS.md knob)
                self.connection.close()
                return None
            garbage = path.rstrip("/") in appliance.garbage_paths and status == 200
            return self._send(status, answer, garbage)

        def _send(self, status, answer, garbage=False):
            raw = b"<html>Service temporarily" if garbage else json.dumps(answer).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)
            except (BrokenPipeError, ConnectionResetError):
                pass

        do_GET = do_POST = do_PUT = _serve

        def log_message(self, *args):
            pass

    return Handler
