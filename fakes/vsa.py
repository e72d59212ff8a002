"""A fake Kaseya VSA 9 on loopback (VENDOR_APIS.md § Kaseya VSA 9), with the knobs of fakes.base
(contract: integrations/vsa/FAKE.md)."""

import base64
import itertools
import re

from fakes.base import FakeServer


def envelope(result, code=0, error="None"):
    return {"Result": result, "ResponseCode": code, "Status": "OK" if code == 0 else "Error", "Error": error}


class VsaFake(FakeServer):
    username, token = "vsa-admin", "personal-access-token"
    session_token = "vsa-session"

    def __init__(self, version="9.5.0.28"):
        super().__init__()
        self.version = version
        self.alarms: dict[int, dict] = {}
        self.emails: list[dict] = []
        self._ids = itertools.count(5001)

    def credentials(self):
        return {"username": self.username, "token": self.token}

    def authorized(self, request):
        if not request.path.startswith("/api/v1.0/"):
            return True  # answers 404
        if request.path == "/api/v1.0/auth":
            basic = base64.b64encode(f"{self.username}:{self.token}".encode()).decode()
            return request.headers.get("Authorization") == f"Basic {basic}"
        return request.headers.get("Authorization") == f"Bearer {self.session_token}"

    def error_body(self, status, request):
        return envelope(None, 401, "Unauthorized") if status == 401 else super().error_body(status, request)

    def route(self, request):
        path, method = request.path, request.method
        if not path.startswith("/api/v1.0/"):
            return 404, envelope(None, 404, "Not found")
        path = path[len("/api/v1.0"):]
        if path == "/auth":
            return 200, envelope({"Token": self.session_token, "UserName": self.username,
                                  "SessionExpiration": "2030-01-01T00:00:00Z"})
        if path == "/system/version":
            return 200, envelope({"Version": self.version})
        if path == "/assetmgmt/alarms/false" and method == "GET":
            return 200, envelope([a for a in self.alarms.values() if not a["closed"]])
        agent = re.fullmatch(r"/assetmgmt/agents/([^/]+)/alarms", path)
        if agent and method == "POST":
            body = request.json()
            with self.lock:
                alarm_id = next(self._ids)
                self.alarms[alarm_id] = {"AlarmId": alarm_id, "AgentId": agent.group(1), "closed": False,
                                         "AlarmSubject": body["AlarmSubject"], "AlarmText": body["AlarmText"],
                                         "UniqueTag": body.get("UniqueTag")}
            self.after_acting()
            return 200, envelope({"AlarmId": alarm_id})
        close = re.fullmatch(r"/assetmgmt/alarms/(\d+)/close", path)
        if close and method == "PUT":
            alarm = self.alarms.get(int(close.group(1)))
            if alarm is None:
                return 200, envelope(None, 404, "No such alarm")
            alarm["closed"] = True
            return 200, envelope(True)
        if path == "/email" and method == "POST":
            self.emails.append(request.json())
            return 200, envelope(True)
        return 404, envelope(None, 404, "Not found")
