"""Real Celery worker processes for tests, pointed at the test database and a loopback SMTP server."""

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import redis
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def worker_env(**extra):
    db = connection.settings_dict
    env = dict(os.environ)
    env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL  # this xdist worker's Redis database
    env.update({k: str(v) for k, v in extra.items()})
    return env


def flush_broker():
    """Drop every queued message: the 'lost task' of the outbox tests (this xdist worker's Redis db only)."""
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()


class Worker:
    def __init__(self, log_path, **env):
        self.log_path = log_path
        self.env = worker_env(**env)
        self.proc = None

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "uniview", "worker", "--pool", "prefork",
             "--concurrency", "1", "--loglevel", "INFO", "--without-gossip", "--without-mingle",
             "--without-heartbeat"],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self._wait_ready()
        return self

    def _wait_ready(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "ready." in Path(self.log_path).read_text(errors="replace"):
                return
            if self.proc.poll() is not None:
                raise RuntimeError("worker exited:\n" + Path(self.log_path).read_text(errors="replace"))
            time.sleep(0.2)
        raise RuntimeError("worker not ready:\n" + Path(self.log_path).read_text(errors="replace"))

    def kill(self):
        """SIGKILL the worker and its pool: no shutdown, no ack, a crash mid-task."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self.log.close()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.log.close()


def wait_for(predicate, timeout=20, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


@contextmanager
def psa_mail_worker(tmp_path):
    """A ConnectWise fake, an SMTP fake and a real worker that sends mail to it, stopped after;
    `log()` is the end of the worker's log, for an assertion's message."""
    from fakes.psa import ConnectWiseFake  # noqa: PLC0415 (only the end-to-end tests need the fakes)
    from fakes.smtp import SmtpFake  # noqa: PLC0415

    psa, smtp = ConnectWiseFake().start(), SmtpFake().start()
    worker = Worker(tmp_path / "worker.log", EMAIL_HOST="127.0.0.1", EMAIL_PORT=smtp.port,
                    EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend").start()
    try:
        yield SimpleNamespace(psa=psa, smtp=smtp, worker=worker,
                              log=lambda: (tmp_path / "worker.log").read_text()[-3000:])
    finally:
        worker.stop()
        smtp.stop()
        psa.stop()
