"""A webhook receiver on loopback, written the way docs/webhooks.md tells receivers to be:
it keeps every call it gets, accepts an event once per Idempotency-Key and drops a retry.

Knobs: those of fakes.base — `server_error(status=410)` or `server_error()` (503) refuse the
calls (they are still in `received`); `hold_after_acting`: while clear, a call is accepted,
then the answer waits — a worker can be killed mid-call.
"""

from fakes.base import FakeServer


class WebhookReceiver(FakeServer):
    def __init__(self, port=0):
        super().__init__(port)
        self.accepted = {}  # Idempotency-Key → parsed body, the first time the key was seen

    @property
    def received(self):
        """(headers as a dict, raw body) of every call, retries and refused ones included."""
        return [(call.headers, call.raw) for call in list(self.requests)]

    def error_body(self, status, request):
        return {"message": "no"}

    def route(self, request):
        key = request.headers.get("Idempotency-Key", "")
        with self.lock:
            duplicate = key in self.accepted
            if not duplicate:
                self.accepted[key] = request.json()
        if not duplicate:
            self.after_acting()
        return 200, {"duplicate": duplicate}
