"""Under /accounts/, before Django's own auth URLs: our login, the 2FA steps, password reset requests, invitations."""

from django.urls import path

from tenancy import login_views

urlpatterns = [
    path("login/", login_views.TwoFactorLoginView.as_view(), name="login"),
    path("two-factor/", login_views.verify, name="two-factor-verify"),
    path("two-factor/setup/", login_views.setup, name="two-factor-setup"),
    path("password_reset/", login_views.PortalPasswordResetView.as_view(), name="password_reset"),
    path("invite/<uidb64>/<token>/", login_views.AcceptInvitationView.as_view(), name="invite-accept"),
]
