"""Where to go after a form: a `next` from the request only when it stays on this portal.

A `next` is attacker-controlled (a crafted link or form), so `//evil.example`,
`/\\evil.example`, `https://evil.example` and anything with a control character
fall back to the page the view would have shown anyway.
"""

import unicodedata

from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not target or any(unicodedata.category(ch)[0] == "C" for ch in target):
        return fallback
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        return fallback
    return target


def go_next(request, fallback: str):
    """A redirect to `safe_next`, as htmx expects it (204 + HX-Redirect) or as a plain 302."""
    target = safe_next(request, fallback)
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = target
        return response
    return redirect(target)
