"""A base for vendor fakes: a real HTTP server on loopback with the fault knobs of VENDOR_APIS.md.

Knobs (set them on the fake at any time; they apply to the next requests):
- `down`: every request answers 503.
- `rate_limited = n`: the next n requests answer 429 with `Retry-After: retry_after`.
- `delay`: seconds to sleep before answering (slow answers).
- `drop_after_create = n`: the next n creates act (the ticket exists), then the
  connection is closed without an answer — the ambiguous failure of invariant 4.
- `create_delay`: seconds a create waits after acting, before answering (acted, answered too late).
- `hold_create`: a threading.Event; while it is clear, a create acts, then waits
  (a worker can be killed in the middle of it).
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Dropped(Exception):
    """Raised by a route after acting: close the socket without answering."""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go in two writes: no 40 ms delayed-ACK stall

    def log_message(self, *args):
        pass

    def _serve(self):
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = Request(self.command, parts.path, parse_qs(parts.query), self.headers, raw)
        try:
            status, body, headers = fake.dispatch(request)
        except Dropped:
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass
            return
        payload = b"" if body is None else json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up waiting (a timeout test)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve


class Request:
    def __init__(self, method, path, query, headers, raw):
        self.method, self.path, self.query, self.headers, self.raw = method, path, query, headers, raw

    def json(self):
        return json.loads(self.raw or b"null")

    def arg(self, name, default=""):
        return self.query.get(name, [default])[0]


class FakeServer:
    def __init__(self):
        self.lock = threading.RLock()
        self.down = False
        self.rate_limited = 0
        self.retry_after = 2
        self.delay = 0.0
        self.drop_after_create = 0
        self.create_delay = 0.0
        self.hold_create = threading.Event()
        self.hold_create.set()
        self.log: list[tuple[str, str, int]] = []
        self.httpd = None

    def start(self):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.fake = self
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.hold_create.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def calls(self, method=None, status=None):
        return [c for c in self.log if (method is None or c[0] == method) and (status is None or c[2] == status)]

    def dispatch(self, request):
        if self.delay:
            threading.Event().wait(self.delay)
        with self.lock:
            if self.down:
                return self._logged(request, 503, {"message": "Service Unavailable"})
            if self.rate_limited > 0:
                self.rate_limited -= 1
                return self._logged(request, 429, {"message": "Too Many Requests"},
                                    {"Retry-After": str(self.retry_after)})
        status, body, *headers = self.route(request)
        return self._logged(request, status, body, headers[0] if headers else None)

    def _logged(self, request, status, body, headers=None):
        with self.lock:
            self.log.append((request.method, request.path, status))
        return status, body, headers

    def after_create(self):
        """Called by a route once it has acted: the fault knobs of a create."""
        self.hold_create.wait(120)
        if self.create_delay:
            threading.Event().wait(self.create_delay)
        with self.lock:
            if self.drop_after_create > 0:
                self.drop_after_create -= 1
                raise Dropped()

    def route(self, request):
        raise NotImplementedError
