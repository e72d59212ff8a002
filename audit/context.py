"""The request being served, so a model signal can name the person behind a change.

A context variable (not a thread-local) so it is right under threads and async
alike. DRF sets `request.user` on the underlying request once it authenticates a
bearer token, so reading the user at signal time sees API callers too.
"""

from contextvars import ContextVar

_request: ContextVar = ContextVar("audit_request", default=None)


def current_actor():
    """(user or None, label): the signed-in person, or 'system' for tasks and commands."""
    request = _request.get()
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None, "system"
    return user, user.email or user.get_username()


def current_request_id() -> str:
    return getattr(_request.get(), "request_id", "") or ""


class CurrentRequestMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)
