"""Holds every signed-in session to the second factor (issue 8, R1.5).

The login view asks for the TOTP code before it logs anyone in, so the sessions
it creates are verified. This catches every other way a session may be signed in
without the code: one that began before the user enrolled a device (from another
browser) or before a superuser required two-factor for the account, one opened by
the Django admin's own login form. Such a session ends at its next request.

The half-signed-in session (password given, code not yet) is not signed in at
all: it only holds the user id for the code step (tenancy.login_views).
"""

from django.contrib.auth import logout
from django.shortcuts import redirect

from tenancy import two_factor

# Pages that work without a signed-in user; there the session ends and the page goes on.
PUBLIC = ("/accounts/login/", "/accounts/logout/", "/accounts/two-factor/", "/accounts/password_reset/",
          "/accounts/reset/", "/accounts/invite/", "/static/", "/healthz")


class TwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not user.is_verified() and two_factor.needs_code(user):
            logout(request)
            if not request.path.startswith(PUBLIC):
                return redirect(f"/accounts/login/?next={request.path}")
        return self.get_response(request)
