"""Refusals made before any view runs (API.md: errors): a NUL in the query string, a body over
the size limit. The API answers JSON naming the field; a page answers a plain 400. A cookie
holding a NUL is dropped."""

from django.conf import settings
from django.http import HttpResponseBadRequest, JsonResponse, QueryDict

from tenancy.parsers import NUL_MESSAGE


def too_big_response() -> JsonResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    message = f"The request body is over the {limit:,} byte limit; send fewer items per request."
    return JsonResponse({"errors": {"body": [message]}}, status=413)


def _content_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _form(request) -> QueryDict:
    """The posted form of a page, read as Django would; an API request's body is left to DRF."""
    if request.method != "POST" or request.path.startswith("/api/"):
        return QueryDict()
    if request.content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return QueryDict()
    return request.POST


class BadInputMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        api = request.path.startswith("/api/")
        # A cookie holding a NUL cannot be a session we issued, and looking it up would fail in the
        # database: it is ignored, as if it had not been sent.
        if any("\x00" in value for value in request.COOKIES.values()):
            request.COOKIES = {name: value for name, value in request.COOKIES.items() if "\x00" not in value}
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if api and limit is not None and _content_length(request) > limit:
            return too_big_response()
        # PostgreSQL stores no NUL: a search, a filter or a form field holding one can only fail
        # in the database. (A JSON body is checked by tenancy.parsers, which names the place.)
        for where in (request.GET, _form(request)):
            for name, values in where.lists():
                if "\x00" in name or any("\x00" in value for value in values if isinstance(value, str)):
                    field = name.replace("\x00", "") or "query"
                    if api:
                        return JsonResponse({"errors": {field: [NUL_MESSAGE]}}, status=400)
                    return HttpResponseBadRequest(f"{field}: {NUL_MESSAGE}", content_type="text/plain")
        return self.get_response(request)
