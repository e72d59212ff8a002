"""Logging in with a password and, where it applies, a TOTP code; accepting an invitation (issue 8).

A user with a confirmed device, or any user of an account that requires
two-factor, is not logged in by the password alone: the user id waits in the
session until the code is right (or, for a user without a device, until they
enroll one). Only then does `django.contrib.auth.login` run.
"""

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.views import LoginView, PasswordResetConfirmView
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django_otp import login as otp_login

from tenancy import two_factor
from tenancy.models import Membership

PENDING = "uniview_2fa_user"
NEXT = "uniview_2fa_next"
BACKEND = "django.contrib.auth.backends.ModelBackend"


def _requires_two_factor(user) -> bool:
    membership = Membership.objects.select_related("account").filter(user=user).first()
    return bool(membership and membership.account.require_two_factor)


class TwoFactorLoginView(LoginView):
    template_name = "registration/login.html"

    def form_valid(self, form):
        user = form.get_user()
        device = two_factor.confirmed_device(user)
        if device is None and not _requires_two_factor(user):
            return super().form_valid(form)
        self.request.session[PENDING] = user.pk
        self.request.session[NEXT] = self.get_success_url()
        return redirect("two-factor-verify" if device else "two-factor-setup")


def _pending_user(request):
    pk = request.session.get(PENDING)
    return get_user_model().objects.filter(pk=pk, is_active=True).first() if pk else None


def _finish(request, user, device):
    next_url = request.session.pop(NEXT, "/")
    request.session.pop(PENDING, None)
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
    device = two_factor.pending_device(user)
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
