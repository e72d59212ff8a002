"""Browser-facing hardening: a Content-Security-Policy, headers Django does not set, and login throttling.

Why here and not in a package: the dashboard loads everything from /static
(htmx included) and uses only `hx-*` attributes, so one strict policy fits every
page; only Swagger UI (/api/docs/) and the admin need inline code, and they get a
policy relaxed for exactly that.
"""

from axes.backends import AxesStandaloneBackend
from django.conf import settings

STRICT_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
# Swagger UI starts itself with an inline <script>; the admin uses inline styles.
RELAXED = {"script-src": "'self' 'unsafe-inline'", "style-src": "'self' 'unsafe-inline'"}
RELAXED_PREFIXES = ("/api/docs/", "/admin/")


def policy_for(path: str) -> str:
    policy = dict(STRICT_POLICY)
    if path.startswith(RELAXED_PREFIXES):
        policy.update(RELAXED)
    return "; ".join(f"{name} {value}" for name, value in policy.items())


class SecurityHeadersMiddleware:
    """Adds the CSP and a permissions policy to every answer that has none yet."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", policy_for(request.path))
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response


class ThrottledLoginBackend(AxesStandaloneBackend):
    """django-axes' lockout check for logins that come with a request.

    A login without a request (the test client's `login()`, a management
    command) has no IP to throttle on, so it is left to the model backend
    instead of being refused.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None or not getattr(settings, "AXES_ENABLED", True):
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
