"""Refusals made before any view runs (API.md: errors): a NUL in the query string, a body over
the size limit. The API answers JSON naming the field; a page answers a plain 400. A cookie
holding a NUL is dropped."""

from django.conf import settings
from django.http import HttpResponseBadRequest, JsonResponse

from uniview.parsers import NUL_MESSAGE


def too_big_message() -> str:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return f"The request body is over the {limit:,} byte limit; send fewer items per request."


def too_big_response() -> JsonResponse:
    return JsonResponse({"errors": {"body": [too_big_message()]}}, status=413)


def _content_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class BadInputMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        api = request.path.startswith("/api/")
        # A cookie holding a NUL cannot be a session we issued, and looking it up would fail in the
        # database: it is ignored, as if it had not been sent.
        if any("\x00" in value for value in request.COOKIES.values()):
            request.COOKIES = {name: value for name, value in request.COOKIES.items() if "\x00" not in value}
        # PostgreSQL stores no NUL: a search or a filter holding one can only fail in the database.
        for name, values in request.GET.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                field = name.replace("\x00", "") or "query"
                if api:
                    return JsonResponse({"errors": {field: [NUL_MESSAGE]}}, status=400)
                return HttpResponseBadRequest(f"{field}: {NUL_MESSAGE}", content_type="text/plain")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if api and limit is not None and _content_length(request) > limit:
            return too_big_response()
        return self.get_response(request)
