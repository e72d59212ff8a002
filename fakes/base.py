"""The one base of every vendor fake: a real HTTP server on loopback, with the same knobs for all.

A fake is started and stopped (`fake.start()` / `fake.stop()`, or `with SomeFake() as fake:`),
answers on `fake.url`, checks the vendor's own credentials (`authorized(request)`) and keeps
every request it gets in `fake.requests` (a `Call`: method, path, query, user, headers, raw body,
and the status it answered, `None` while in flight or when the connection was dropped).

Knobs, the same words for every vendor; each applies to the requests that follow and can be
switched off again (`heal()` switches all of them off):

- `unauthorized()` — every request answers 401 in the vendor's shape (`unauthorized(False)` off).
- `quota(retry_after, times=1)` — the next `times` requests answer 429 with `Retry-After`.
- `slow(seconds)` — every answer waits that long first (`slow(0)` off);
  `slow(seconds, after_acting=True)` waits after a write has acted instead (acted, answered late).
- `server_error(times=None, status=503, paths=())` — answer `status` (to every request, or the
  next `times`, or only on `paths`); `server_error(0)` off. Any error status works (410 …).
- `drop_after_acting(times=1)` — the next `times` writes act (the ticket exists, the job is
  cancelled), then the connection closes without an answer: the ambiguous failure.
  `times=None`: every write.
- `garbage(paths=())` — 200 answers carry a body that is not JSON (on `paths` only, if given);
  `garbage(False)` off.

Two more, for the cases the six do not cover: `forbidden()` (403: valid key, no right to read)
and `hold_after_acting`, a `threading.Event`: while it is clear, a write acts and then waits
(a worker can be killed in the middle of it).

A vendor fake implements `route(request) -> (status, body[, headers])` and, where the vendor
checks credentials, `authorized(request)`; a route that has acted calls `self.after_acting()`.
"""

import base64
import json
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

GARBAGE = b"<html>Service temporarily unavailable"


class Dropped(Exception):
    """Raised by `after_acting()`: close the socket without answering."""


@dataclass
class Call:
    """One request as the fake saw it, and the status it answered (None: in flight or dropped)."""

    method: str
    path: str
    query: dict
    user: str | None
    headers: dict = field(repr=False)
    raw: bytes = field(repr=False)
    status: int | None = None
    dropped: bool = False  # acted, then the connection closed without an answer


class Request:
    def __init__(self, method, path, query, headers, raw):
        self.method, self.path, self.query, self.headers, self.raw = method, path, query, headers, raw
        self.basic = basic_credentials(headers.get("Authorization", ""))

    def json(self):
        return json.loads(self.raw or b"null")

    def arg(self, name, default=""):
        return self.query.get(name, default)


def basic_credentials(header: str):
    """(user, secret) of an HTTP Basic Authorization header, or None."""
    if not header.startswith("Basic "):
        return None
    try:
        user, _, secret = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return None
    return user, secret


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    wbufsize = -1  # headers and body leave in one write (no Nagle/delayed-ACK stall per request)

    def log_message(self, *args):
        pass

    def _serve(self):
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        try:
            status, payload, headers = fake.dispatch(Request(self.command, parts.path, query, self.headers, raw))
        except Dropped:
            self.close_connection = True
            try:
                self.wfile.flush()
                self.connection.shutdown(2)
            except OSError:
                pass
            return
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up waiting (a timeout test)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve


class FakeServer:
    """A vendor's API on 127.0.0.1 (port 0: a free one, unless told)."""

    methods = ("GET", "POST", "PATCH", "PUT", "DELETE")  # others answer 501, as a plain server does

    def __init__(self, port=0):
        self._port = port
        self.lock = threading.RLock()
        self.requests: list[Call] = []
        self.hold_after_acting = threading.Event()
        self.hold_after_acting.set()
        self.httpd, self._stopped = None, False
        self.heal()

    # --- life -----------------------------------------------------------------
    def _bind(self):
        if self.httpd is None:
            self.httpd = ThreadingHTTPServer(("127.0.0.1", self._port), _Handler)
            self.httpd.daemon_threads = True
            self.httpd.fake = self
        return self.httpd

    def start(self):
        if self._stopped:  # started again after a stop: a new server (on a new port, unless told)
            self.httpd, self._stopped = None, False
        threading.Thread(target=self._bind().serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self):
        self.hold_after_acting.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self._stopped = True  # `url` still names where it was

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self) -> int:
        return self._bind().server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._bind().server_address[1]}"  # known before start()

    # --- knobs ----------------------------------------------------------------
    def heal(self):
        """Every knob off."""
        with self.lock:
            self._unauthorized = self._forbidden = False
            self._quota, self._retry_after = 0, "0"
            self._slow = self._slow_after_acting = 0.0
            self._errors, self._error_status, self._error_paths = 0, 503, frozenset()
            self._drops = 0
            self._garbage, self._garbage_paths = False, frozenset()
        self.hold_after_acting.set()
        return self

    def unauthorized(self, on=True):
        self._unauthorized = on
        return self

    def forbidden(self, on=True):
        self._forbidden = on
        return self

    def quota(self, retry_after=0, times=1):
        with self.lock:
            self._quota, self._retry_after = times, str(retry_after)
        return self

    def slow(self, seconds, after_acting=False):
        if after_acting:
            self._slow_after_acting = seconds
        else:
            self._slow = seconds
        return self

    def server_error(self, times=None, status=503, paths=()):
        with self.lock:
            self._errors = -1 if times is None else times  # -1: until switched off
            self._error_status, self._error_paths = status, frozenset(paths)
        return self

    def drop_after_acting(self, times=1):
        self._drops = -1 if times is None else times
        return self

    def garbage(self, on=True, paths=()):
        self._garbage, self._garbage_paths = bool(on), frozenset(paths)
        return self

    # --- what a vendor fake implements ---------------------------------------
    def route(self, request):
        """(status, body[, headers]) for a request the knobs let through."""
        raise NotImplementedError

    def authorized(self, request) -> bool:
        """The vendor's credential check (True for the requests it does not check)."""
        return True

    def error_body(self, status, request):
        """The body of an error the fake answers by itself (401, 403, 429, 5xx), in the vendor's shape."""
        return {"message": HTTPStatus(status).phrase}

    def local_path(self, request) -> str:
        """The path `server_error(paths=…)` and `garbage(paths=…)` match against."""
        return request.path

    def after_acting(self):
        """Called by a route once a write has acted: the knobs that act on writes."""
        self.hold_after_acting.wait(120)
        if self._slow_after_acting:
            threading.Event().wait(self._slow_after_acting)
        with self.lock:
            if self._drops:
                self._drops -= self._drops > 0
                raise Dropped()

    # --- reading the log ------------------------------------------------------
    def calls(self, method=None, status=None) -> list[Call]:
        return [c for c in list(self.requests)
                if (method is None or c.method == method) and (status is None or c.status == status)]

    # --- answering ------------------------------------------------------------
    def dispatch(self, request):
        call = Call(request.method, request.path, dict(request.query), request.basic and request.basic[0],
                    {k.lower(): v for k, v in request.headers.items()}, request.raw)
        with self.lock:
            self.requests.append(call)
        if self._slow:
            threading.Event().wait(self._slow)
        try:
            status, body, headers = self._answer(request)
        except Dropped:
            call.dropped = True
            raise
        garbage = self._garbage and status == 200 and (
            not self._garbage_paths or self.local_path(request).rstrip("/") in self._garbage_paths)
        call.status = status
        return status, GARBAGE if garbage else (b"" if body is None else json.dumps(body).encode()), headers

    def _answer(self, request):
        if request.method not in self.methods:
            return 501, {"message": "Unsupported method"}, None
        local = self.local_path(request).rstrip("/")
        with self.lock:
            if self._unauthorized:
                return 401, self.error_body(401, request), None
            if self._errors and (not self._error_paths or local in self._error_paths):
                self._errors -= self._errors > 0
                return self._error_status, self.error_body(self._error_status, request), None
            if self._quota > 0:
                self._quota -= 1
                return 429, self.error_body(429, request), {"Retry-After": self._retry_after}
        if not self.authorized(request):
            return 401, self.error_body(401, request), None
        if self._forbidden:
            return 403, self.error_body(403, request), None
        status, body, *headers = self.route(request)
        return status, body, headers[0] if headers else None


class BasicAuthFake(FakeServer):
    """A read-only vendor API behind HTTP Basic authentication (Datto, Spanning)."""

    methods = ("GET",)

    def __init__(self, username, secret, port=0):
        super().__init__(port)
        self.username, self.secret = username, secret

    def authorized(self, request):
        return request.basic == (self.username, self.secret)

    def route(self, request):
        return self.read(request.path, request.query)

    def read(self, path: str, query: dict):
        """(status, body) of an authenticated GET."""
        raise NotImplementedError

    def error_body(self, status, request):
        return {"code": str(status), "message": HTTPStatus(status).phrase}
