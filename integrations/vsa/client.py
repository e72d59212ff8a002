"""Kaseya VSA 9 client (R13.4), per VENDOR_APIS.md § Kaseya VSA 9.

Every answer comes in an envelope `{Result, ResponseCode, Status, Error}`;
`ResponseCode != 0` is an error even with HTTP 200. The version path and the
alarm-creation path are ours ([ours] in VENDOR_APIS.md) and live only here.
"""

import base64
import re

import requests

from integrations import http
from integrations.connection import ConnectionFailed
from integrations.http import VendorError, session, unreachable

MIN_VERSION = (9, 5, 0, 28)
TIMEOUT = (5, 20)


class UnsupportedVersion(ConnectionFailed):
    """R13.4: VSA older than 9.5.0.28, or a VSA 10."""


def parse_version(text: str) -> tuple[int, ...]:
    numbers = re.findall(r"\d+", text or "")
    if not numbers:
        raise UnsupportedVersion(f"Kaseya VSA answered an unreadable version ({text!r}).")
    return tuple(int(n) for n in numbers[:4])


def version_problem(text: str) -> str:
    """'' when the version is supported, else the sentence a person reads (R13.4)."""
    version = parse_version(text)
    if version[0] >= 10:
        return (f"This server runs Kaseya VSA {text}. VSA 10 is not supported: uniview works with "
                f"Kaseya VSA 9, version 9.5.0.28 or later.")
    if version < MIN_VERSION:
        return f"This server runs Kaseya VSA {text}; uniview needs Kaseya VSA 9.5.0.28 or later. Please upgrade."
    return ""


class VsaClient:
    def __init__(self, integration):
        self.integration = integration
        self.root = (integration.base_url or "").rstrip("/") + "/api/v1.0"
        self.http = session(retries=0)  # the outbox owns retries (R13.5)
        self._token = None

    def _call(self, method, path, auth=None, **kwargs):
        headers = {"Authorization": auth or f"Bearer {self._authenticate()}"}
        try:
            response = self.http.request(method, self.root + path, headers=headers, timeout=TIMEOUT,
                                         allow_redirects=False, **kwargs)
        except requests.RequestException as exc:
            raise VendorError(unreachable("Kaseya VSA", exc)) from exc
        verdict = http.classify(response.status_code)
        if response.status_code == 429:
            raise VendorError("Kaseya VSA asks us to slow down (429).", 429, response.headers.get("Retry-After"))
        if verdict == http.REFUSED:
            raise VendorError(f"Kaseya VSA refused the credentials ({response.status_code}).", response.status_code)
        if verdict != http.OK:
            raise VendorError(f"Kaseya VSA answered HTTP {response.status_code}.", response.status_code)
        try:
            body = response.json()
        except ValueError as exc:
            raise VendorError("Kaseya VSA answered with a body that is not JSON.", 502) from exc
        if not isinstance(body, dict):
            raise VendorError("Kaseya VSA answered a body that is not an object.", 502)
        if body.get("ResponseCode", 0) != 0:
            raise VendorError(f"Kaseya VSA error: {body.get('Error') or body.get('ResponseCode')}.", 400)
        return body.get("Result")

    def _authenticate(self) -> str:
        if self._token is None:
            c = self.integration.credentials or {}
            basic = base64.b64encode(f"{c.get('username', '')}:{c.get('token', '')}".encode()).decode()
            result = self._call("GET", "/auth", auth=f"Basic {basic}")
            token = result.get("Token") if isinstance(result, dict) else None
            if not token:
                raise VendorError("Kaseya VSA answered the sign-in without a token.", 502)
            self._token = token
        return self._token

    def version(self) -> str:
        result = self._call("GET", "/system/version")
        return str(result.get("Version", "")) if isinstance(result, dict) else ""

    def check(self) -> str:
        """The connection test and the save check: signs in, then gates on the version."""
        try:
            version = self.version()
        except VendorError as exc:
            raise ConnectionFailed(str(exc)) from exc
        problem = version_problem(version)
        if problem:
            raise UnsupportedVersion(problem)
        return f"Connected to Kaseya VSA {version}."

    def find_alarm(self, tag: str):
        """Invariant 4: our alarm for this tag (the alert's ref) if one is already open."""
        rows = self._call("GET", "/assetmgmt/alarms/false", params={"$filter": f"contains(AlarmSubject,'[{tag}]')"})
        for row in rows or []:
            if f"[{tag}]" in str(row.get("AlarmSubject", "")):
                return row.get("AlarmId")
        return None

    def create_alarm(self, agent_id, subject, text, tag):
        body = {"AlarmSubject": subject, "AlarmText": text, "MonitorType": "UniView", "UniqueTag": tag}
        return self._call("POST", f"/assetmgmt/agents/{agent_id}/alarms", json=body)["AlarmId"]

    def close_alarm(self, alarm_id):
        self._call("PUT", f"/assetmgmt/alarms/{alarm_id}/close")

    def send_email(self, sender, recipients, subject, body, tag):
        payload = {"FromAddress": sender, "ToAddress": ",".join(recipients), "Subject": subject, "Body": body,
                   "IsBodyHtml": False, "UniqueTag": tag}
        self._call("POST", "/email", json=payload)

