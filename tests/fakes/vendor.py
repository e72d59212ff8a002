"""The common body of the vendor fakes: a ThreadingHTTPServer on loopback with knobs.

Knobs (VENDOR_APIS.md): `bad_credentials` (401 for everything), `forbidden` (403), `quota` (answer this
many requests with 429 + Retry-After), `delay` (seconds before answering),
`errors` (answer this many with 503), `garbage` (answer bodies that are not JSON).
Every request is logged in `requests` as (method, path, query dict, auth user).
"""

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class FakeVendor:
    def __init__(self, username, secret):
        self.username, self.secret = username, secret
        self.bad_credentials = False
        self.forbidden = False  # 403: the key is valid but may not read this
        self.quota = 0
        self.errors = 0
        self.delay = 0.0
        self.garbage = False
        self.retry_after = "0"
        self.requests = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def route(self, path: str, query: dict):
        """Answer (status, body) for an authenticated GET; subclasses implement."""
        raise NotImplementedError

    def unauthorized_body(self):
        return {"code": "401", "message": "Unauthorized"}

    def _answer(self, handler):
        parts = urlsplit(handler.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        user = _basic_user(handler.headers.get("Authorization", ""))
        with self.lock:
            self.requests.append((handler.command, parts.path, query, user and user[0]))
            quota, self.quota = self.quota > 0, max(0, self.quota - 1)
            error, self.errors = self.errors > 0, max(0, self.errors - 1)
        if self.delay:
            time.sleep(self.delay)
        if self.bad_credentials or user != (self.username, self.secret):
            return 401, self.unauthorized_body(), {}
        if self.forbidden:
            return 403, {"code": "403", "message": "Forbidden"}, {}
        if quota:
            return 429, {"code": "429", "message": "Too Many Requests"}, {"Retry-After": self.retry_after}
        if error:
            return 503, {"code": "503", "message": "Service Unavailable"}, {}
        status, body = self.route(parts.path, query)
        return status, body, {}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                status, body, headers = fake._answer(self)
                raw = b"<html>oops" if fake.garbage and status == 200 else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout knob)

            def log_message(self, *args):
                pass

        return Handler


def _basic_user(header: str):
    if not header.startswith("Basic "):
        return None
    try:
        user, _, secret = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return None
    return user, secret
