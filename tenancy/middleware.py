"""Holds a session to the account's two-factor requirement (issue 8, R1).

The login view asks for the TOTP code before it logs anyone in, so sessions it
creates are verified. This catches the rest: a session that began before a
superuser required two-factor for the account ends at its next request.
"""

from django.contrib.auth import logout
from django.shortcuts import redirect
from django_otp import DEVICE_ID_SESSION_KEY

from tenancy import scoping

EXEMPT = ("/accounts/", "/static/")


class TwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(EXEMPT)
            and not request.session.get(DEVICE_ID_SESSION_KEY)
        ):
            membership = scoping.membership_of(user)
            if membership is not None and membership.account.require_two_factor:
                logout(request)
                return redirect(f"/accounts/login/?next={request.path}")
        return self.get_response(request)
