"""Logging in with a password and, where it applies, a TOTP code; accepting an invitation (issue 8).

A user with a confirmed device, or any user of an account that requires
two-factor, is not logged in by the password alone: the user id waits in the
session until the code is right. Only then does `django.contrib.auth.login` run.

R1.5: that half-signed-in session can verify a code or sign out, nothing else.
A user with a confirmed device must show its code: enrolling another device
needs a session signed in with both factors (Settings > Two-factor). Only a user
without any device, in an account that requires one, enrolls at this step.
The waiting user id is bound to the password it was given with, so a password
reset ends the half-signed-in session too.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.views import LoginView, PasswordResetConfirmView, PasswordResetView
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.crypto import constant_time_compare
from django_otp import login as otp_login

from tenancy import two_factor

PENDING = "uniview_2fa_user"
PENDING_HASH = "uniview_2fa_password"
NEXT = "uniview_2fa_next"
BACKEND = "django.contrib.auth.backends.ModelBackend"


class TwoFactorLoginView(LoginView):
    template_name = "registration/login.html"

    def form_valid(self, form):
        user = form.get_user()
        if not two_factor.needs_code(user):
            return super().form_valid(form)
        self.request.session[PENDING] = user.pk
        self.request.session[PENDING_HASH] = user.get_session_auth_hash()
        self.request.session[NEXT] = self.get_success_url()
        return redirect("two-factor-setup" if two_factor.lacks_required(user) else "two-factor-verify")


def _pending_user(request):
    """The user who passed the password step, while that password still holds."""
    pk = request.session.get(PENDING)
    user = get_user_model().objects.filter(pk=pk, is_active=True).first() if pk else None
    if user is None or not constant_time_compare(request.session.get(PENDING_HASH, ""), user.get_session_auth_hash()):
        return None
    return user


def _finish(request, user, device):
    next_url = request.session.pop(NEXT, "/")
    request.session.pop(PENDING, None)
    request.session.pop(PENDING_HASH, None)
    login(request, user, backend=BACKEND)
    otp_login(request, device)
    return redirect(next_url)


def verify(request):
    """Step two of the login: the code from the authenticator app."""
    user = _pending_user(request)
    device = user and two_factor.confirmed_device(user)
    if device is None:
        return redirect("login")
    error = None
    if request.method == "POST":
        if two_factor.verify(device, request.POST.get("code")):
            return _finish(request, user, device)
        error = "That code is not right. Try the current one from your app."
    return render(request, "registration/two_factor_verify.html", {"error": error})


def setup(request):
    """The account requires two-factor and this user has no device yet: enroll before entering."""
    user = _pending_user(request)
    if user is None:
        return redirect("login")
    if not two_factor.lacks_required(user):
        # R1.5: a user with a device shows its code; the password alone enrolls nothing.
        return redirect("two-factor-verify")
    device = two_factor.pending_device(user, request.session)
    error = None
    if request.method == "POST":
        if two_factor.confirm(device, request.POST.get("code")):
            return _finish(request, user, device)
        error = "That code is not right. Scan the code again or type the key, then enter the current code."
    context = {"error": error, **two_factor.enrollment(device), "action": reverse_lazy("two-factor-setup")}
    return render(request, "registration/two_factor_setup.html", context)


class AcceptInvitationView(PasswordResetConfirmView):
    """The emailed one-time link: the invitee chooses a password (Django's validators apply)."""

    template_name = "registration/invitation_accept.html"
    success_url = reverse_lazy("login")
    post_reset_login = False

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Your password is set. Log in with your email and the new password.")
        return response


class PortalPasswordResetView(PasswordResetView):
    """Anyone may ask for a reset, sending any Host: the emailed link (and its one-time token)
    is built from PORTAL_URL, like an invitation's, never from the request."""

    def form_valid(self, form):
        self.extra_email_context = {"portal_url": settings.PORTAL_URL.rstrip("/")}
        return super().form_valid(form)
