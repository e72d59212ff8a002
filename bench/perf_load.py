"""The load run: gunicorn on loopback, wrk with 50 connections against the alert list API."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
CONNECTIONS, DURATION, WORKERS = 50, 20, 3  # as the Dockerfile runs it: 3 sync workers
LUA = """
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %f %d %d\\n", summary.requests, latency:percentile(95) / 1000.0,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout, summary.duration))
end
"""


def ensure_wrk():
    if shutil.which("wrk"):
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True)
    subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "wrk"], check=True,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load(client_tuple):
    account, _user, client = client_tuple
    ensure_wrk()
    token = client.defaults["HTTP_AUTHORIZATION"]
    org = account.organizations.order_by("id").values_list("id", flat=True).first()
    path = f"/api/v1/alerts/?organization={org}"
    port = free_port()
    log = open(Path(tempfile.gettempdir()) / "perf-gunicorn.log", "ab")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "uniview.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(WORKERS),
         "--log-level", "warning"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}{path}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(url, headers={"Authorization": token}, timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.3)
        script = Path(tempfile.mkstemp(suffix=".lua")[1])
        script.write_text(LUA)
        out = subprocess.run(
            ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}s", "--timeout", "10s", "-H", f"Authorization: {token}",
             "-s", str(script), url], capture_output=True, text=True, check=True,
        ).stdout
    finally:
        server.terminate()
        server.wait(15)
    requests_done, p95_ms, errors, duration_us = re.search(r"RESULT (\d+) ([\d.]+) (\d+) (\d+)", out).groups()
    return {"requests_per_s": round(int(requests_done) / (int(duration_us) / 1e6)), "p95_ms": round(float(p95_ms), 1),
            "errors": int(errors), "connections": CONNECTIONS, "duration_s": DURATION, "path": path.split("?")[0],
            "workers": f"{WORKERS} sync"}


if __name__ == "__main__":
    print(json.dumps({"usage": "python -m bench.perf_api load"}))
