"""The product's own refusal and not-found answers.

Pages get templates/403.html and 404.html (the base layout, with navigation when
signed in), each saying why when the page said so (`PermissionDenied("Only a superuser
…")`, `tenancy.pages.NotFound`); anything under /api/ keeps answering JSON like the rest
of the API, even for a path no route knows.
"""

from django.http import HttpResponseNotFound, JsonResponse
from django.template import loader
from django.views import defaults

from tenancy.pages import NotFound

API_PREFIX = "/api/"


def _is_api(request):
    return request.path.startswith(API_PREFIX)


def permission_denied(request, exception):
    if _is_api(request):
        return JsonResponse({"detail": str(exception) or "You do not have permission to perform this action."}, status=403)
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception):
    if _is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    if isinstance(exception, NotFound):
        page = loader.get_template("404.html").render({"reason": str(exception)}, request)
        return HttpResponseNotFound(page)
    return defaults.page_not_found(request, exception)
