"""PostgreSQL restarted under load: web and worker recover by themselves, nothing is lost (issue 7).

Run by `make faults` only, never by the suite: it restarts the machine's PostgreSQL, which would
break every other test running at that moment. The file name does not start with `test_` so the
suite does not collect it; `make faults` names it explicitly.
"""

import glob
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
import requests
from django.db import connection

from alerts.evaluation import evaluate
from fakes.smtp import SmtpFake, free_port
from inventory.models import Backup
from notifications.models import Delivery
from tenancy.models import ApiToken, TokenScope
from tests.conftest import NOW, build_cast, make_appliance, make_asset
from tests.workers import ROOT, Worker, wait_for, worker_env

pytestmark = pytest.mark.django_db(transaction=True)
BATCH = 50


def restart_postgresql():
    """Restart the server under the test database: FAULTS_PG_RESTART (a shell command), else every
    local Debian cluster (what `make faults` does on a development machine or in CI)."""
    command = os.environ.get("FAULTS_PG_RESTART")
    if command:
        subprocess.run(command, shell=True, check=True, timeout=60)
        return
    versions = [os.path.basename(p) for p in glob.glob("/etc/postgresql/*")]
    assert versions, "this fault test restarts a local Debian PostgreSQL cluster"
    for version in versions:
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart", "-m", "fast"],
                       check=True, timeout=60)


class Web:
    def __init__(self, tmp_path, **env):
        self.port = free_port()
        self.log = open(tmp_path / "gunicorn.log", "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "uniview.wsgi", "-b", f"127.0.0.1:{self.port}", "-w", "2",
             "--timeout", "30"],
            cwd=ROOT, env=worker_env(AXES_ENABLED=0, **env), stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self):
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(15)
        self.log.close()


class IngestLoad(threading.Thread):
    """A script pushing backups: a batch that failed is sent again until it is accepted."""

    def __init__(self, url, token):
        super().__init__(daemon=True)
        self.url, self.token = url, token
        self.stop_event = threading.Event()
        self.batches, self.failures = 0, 0

    def run(self):
        while not self.stop_event.is_set():
            payload = [{
                "appliance": "ua-1", "asset": "vm-1", "external_id": f"b-{self.batches}-{n}", "kind": "backup",
                "type": "incremental", "status": "success", "started_at": "2026-11-01T22:00:00+00:00",
                "finished_at": "2026-11-01T22:40:00+00:00", "size_bytes": n, "error": "",
            } for n in range(BATCH)]
            while True:
                try:
                    response = requests.post(f"{self.url}/api/v1/ingest/backups/", json=payload, timeout=10,
                                             headers={"Authorization": f"Bearer {self.token}"})
                    if response.status_code == 200:
                        break
                except requests.RequestException:
                    pass
                self.failures += 1
                time.sleep(0.2)
            self.batches += 1


def test_postgresql_restarted_under_load_web_and_workers_recover_and_nothing_is_lost(tmp_path):
    smtp = SmtpFake().start()
    cast = build_cast()
    appliance = make_appliance(cast.account_a, cast.org_a1, "ua-1")
    make_asset(appliance, "vm-1")
    token = ApiToken.issue(cast.superuser_a, TokenScope.INGEST)[1]
    mail = {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": smtp.port,
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend"}
    web = Web(tmp_path)
    worker = Worker(tmp_path / "worker.log", **mail).start()
    load = IngestLoad(web.url, token)
    try:
        assert wait_for(lambda: _status(web.url + "/healthz") in (200, 503), timeout=30)
        load.start()
        assert wait_for(lambda: load.batches >= 3, timeout=30)

        restart_postgresql()
        connection.close()  # this test's own connection died with the server too

        after = load.batches
        assert wait_for(lambda: load.batches >= after + 5, timeout=60), "the web did not recover"
        load.stop_event.set()
        load.join(30)
        # Nothing lost, nothing doubled: every batch landed exactly once.
        assert Backup.objects.filter(account=cast.account_a).count() == load.batches * BATCH
        assert wait_for(lambda: _status(web.url + "/healthz") == 200, timeout=30), "healthz did not recover"

        # The worker recovers too: a new alert's email is delivered after the restart.
        make_appliance(cast.account_a, cast.org_a2, "silent", last_contact_at=NOW - timedelta(hours=1))
        evaluate(cast.account_a, NOW)
        pending = list(Delivery.objects.values_list("pk", flat=True))
        assert pending
        assert wait_for(lambda: Delivery.objects.filter(state="sent").count() == len(pending), timeout=60), (
            (tmp_path / "worker.log").read_text()[-3000:])
        print(f"\nbatches accepted: {load.batches}, failed tries during the restart: {load.failures}")
    finally:
        load.stop_event.set()
        worker.stop()
        web.stop()
        smtp.stop()


def _status(url, token=None):
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.get(url, timeout=5, headers=headers).status_code
    except requests.RequestException:
        return None
