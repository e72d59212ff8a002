"""A webhook receiver on loopback, written the way docs/webhooks.md tells receivers to be:
it keeps every call it gets, accepts an event once per Idempotency-Key and drops a retry.

Knobs: `answer` (the status it answers, e.g. 410 or 503); `hold_create` (from FakeServer):
while clear, a call is accepted, then the answer waits — a worker can be killed mid-call.
"""

from tests.fakes.http import FakeServer


class WebhookReceiver(FakeServer):
    def __init__(self):
        super().__init__()
        self.answer = 200
        self.received = []  # (headers as a dict, raw body) of every call, retries included
        self.accepted = {}  # Idempotency-Key → parsed body, the first time the key was seen

    def route(self, request):
        headers = {key.lower(): value for key, value in request.headers.items()}
        with self.lock:
            self.received.append((headers, request.raw))
            if self.answer != 200:
                return self.answer, {"message": "no"}
            key = headers.get("idempotency-key", "")
            duplicate = key in self.accepted
            if not duplicate:
                self.accepted[key] = request.json()
        if not duplicate:
            self.after_create()
        return 200, {"duplicate": duplicate}
