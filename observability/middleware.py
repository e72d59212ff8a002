"""Request ids: taken from a trusted proxy's `X-Request-ID` (if sane) or made here, logged and echoed."""

import re
import uuid

from observability import logs

_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming if _SANE.match(incoming) else uuid.uuid4().hex
        request.request_id = rid
        # Not reset on the way out: Django logs a 4xx/5xx ("django.request") after the
        # middleware chain has returned, and that line must carry the id too. The next
        # request on this thread sets its own.
        logs.request_id.set(rid)
        response = self.get_response(request)
        response["X-Request-ID"] = rid
        return response
