"""Settings > Users, Settings > API tokens and Settings > Two-factor (issue 8, R1.3, R1.5, R1.6).

Settings > Users is the superuser's alone (R1.3): anyone else gets the 403 page.
"""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from tenancy import scoping, two_factor, users
from tenancy.models import ApiToken, Organization, Role, TokenScope
from tenancy.user_api import TOKEN_SCOPES, scope_refusal
from tenancy.validation import CONTROL_MESSAGE, has_control_characters, parse_id


def _chosen_organizations(request):
    ids = [pk for pk in map(parse_id, request.POST.getlist("organizations")) if pk is not None]
    # Scoped: an id outside the user's organizations is simply not found (R1.1, R1.4).
    return list(scoping.scope(request.user, Organization.objects.filter(pk__in=ids)))


def _superuser_only(request):
    """R1.3, R1.6: users and invitations are the superuser's, before any lookup (so no 404/403 oracle)."""
    scoping.member_account(request.user)
    if not scoping.can(request.user, scoping.MANAGE):
        raise PermissionDenied("Only a superuser manages users.")


def _all_organizations(request) -> bool:
    """R1.6: "every organization" is its own box, never read from an empty selection."""
    return request.POST.get("all_organizations") == "on"


def _users_context(request, **extra):
    return {
        # Each row names the person's organizations: read them for everyone at once.
        "people": [(p, users.is_pending(p))
                   for p in users.visible_users(request.user).prefetch_related("membership__organizations")],
        "roles": Role.choices,
        "organizations": scoping.scope(request.user, Organization.objects.all()),
        **extra,
    }


@login_required
def user_list(request):
    """The account's people, and the invitation form (POST invites)."""
    _superuser_only(request)
    if request.method == "POST":
        try:
            invited = users.invite(
                request.user, request.POST.get("email"), request.POST.get("role", Role.MONITOR),
                _chosen_organizations(request), all_organizations=_all_organizations(request),
            )
        except users.RuleError as error:
            context = _users_context(request, errors={error.field: error.message}, values=request.POST)
            return render(request, "tenancy/users.html", context, status=400)
        messages.success(request, f"Invitation sent to {invited.email}.")
        return redirect("tenancy:users")
    return render(request, "tenancy/users.html", _users_context(request))


def _target(request, pk):
    _superuser_only(request)
    return get_object_or_404(users.visible_users(request.user), pk=pk)


@login_required
def user_edit(request, pk):
    """Role and organization scope of one person (GET the form, POST saves)."""
    target = _target(request, pk)
    errors = {}
    if request.method == "POST":
        try:
            users.change(request.user, target, role=request.POST.get("role"),
                         organizations=_chosen_organizations(request), all_organizations=_all_organizations(request))
        except users.RuleError as error:
            errors = {error.field: error.message}
        else:
            messages.success(request, f"{target.email} saved.")
            return redirect("tenancy:users")
    chosen = set(target.membership.organizations.values_list("id", flat=True))
    return render(request, "tenancy/user_edit.html", {
        "target": target, "roles": Role.choices, "errors": errors, "chosen": chosen,
        "all_chosen": target.membership.all_organizations,
        "organizations": scoping.scope(request.user, Organization.objects.all()),
    }, status=400 if errors else 200)


@login_required
@require_POST
def user_active(request, pk, active):
    """Deactivate (sessions end, tokens are revoked) or re-activate."""
    target = _target(request, pk)
    try:
        users.change(request.user, target, is_active=active)
    except users.RuleError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{target.email} {'re-activated' if active else 'deactivated'}.")
    return redirect("tenancy:users")


@login_required
@require_POST
def user_resend(request, pk):
    target = _target(request, pk)
    try:
        users.resend(request.user, target)
    except users.RuleError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Invitation sent again to {target.email}.")
    return redirect("tenancy:users")


def _token_form(request):
    """(name, scope, expires_at) or an error naming the field."""
    name = request.POST.get("name", "").strip()
    scope = request.POST.get("scope", TokenScope.READ)
    days = request.POST.get("expires_in_days", "").strip()
    refusal = two_factor.token_refusal(request.user)
    if refusal:
        return None, {"name": refusal}
    if not name:
        return None, {"name": "Name the token, e.g. after the script that uses it."}
    longest = ApiToken._meta.get_field("name").max_length
    if len(name) > longest or has_control_characters(name):
        return None, {"name": f"At most {longest} characters. {CONTROL_MESSAGE}"}
    if scope not in dict(TOKEN_SCOPES):
        return None, {"scope": "Choose read, write or ingest."}
    refusal = scope_refusal(request.user, scope)
    if refusal:
        return None, {"scope": refusal}
    number = parse_id(days)
    if days and (number is None or not 1 <= number <= 3650):
        return None, {"expires_in_days": "Days from 1 to 3650, or empty for no expiry."}
    expires_at = timezone.now() + timedelta(days=number) if days else None
    return (name, scope, expires_at), {}


@login_required
def token_list(request):
    """The user's own tokens; POST creates one and shows its secret once."""
    scoping.member_account(request.user)
    errors, secret = {}, None
    if request.method == "POST":
        values, errors = _token_form(request)
        if values:
            _, secret = ApiToken.issue(request.user, values[1], values[0], values[2])
    tokens = scoping.scope(request.user, ApiToken.objects.filter(user=request.user)).order_by("-created_at")
    return render(request, "tenancy/tokens.html", {
        "tokens": tokens, "scopes": TOKEN_SCOPES, "errors": errors, "secret": secret,
        "values": request.POST if errors else {}, "now": timezone.now(),
    }, status=400 if errors else 200)


@login_required
@require_POST
def token_revoke(request, pk):
    scoping.member_account(request.user)
    token = get_object_or_404(scoping.scope(request.user, ApiToken.objects.filter(user=request.user)), pk=pk)
    token.revoke()
    messages.success(request, f"Token {token.name or token.key_id} revoked.")
    return redirect("tenancy:tokens")


@login_required
def two_factor_settings(request):
    """Turn one's own TOTP on or off; a superuser may require it for the whole account."""
    account = scoping.member_account(request.user)
    device = two_factor.confirmed_device(request.user)
    context = {"device": device, "account": account, "is_superuser": scoping.can(request.user, scoping.MANAGE)}
    if device is None:
        pending = two_factor.pending_device(request.user, request.session)
        if request.method == "POST":
            if two_factor.confirm(pending, request.POST.get("code")):
                otp_login(request, pending)
                messages.success(request, "Two-factor is on: logins now ask for a code.")
                return redirect("tenancy:two-factor")
            context["error"] = "That code is not right. Enter the current code from your app."
        context.update(two_factor.enrollment(pending))
    return render(request, "tenancy/two_factor.html", context)


@login_required
@require_POST
def two_factor_off(request):
    account = scoping.member_account(request.user)
    if account.require_two_factor:
        messages.error(request, "Your account requires two-factor; it stays on.")
    else:
        two_factor.turn_off(request.user)
        messages.success(request, "Two-factor is off.")
    return redirect("tenancy:two-factor")


@login_required
@require_POST
def two_factor_require(request):
    account = scoping.member_account(request.user)
    if not scoping.can(request.user, scoping.MANAGE):
        raise PermissionDenied("Only a superuser may require two-factor.")
    required = request.POST.get("required") == "on"
    if required and two_factor.confirmed_device(request.user) is None:
        messages.error(request, "Turn on two-factor for yourself first, so you are not locked out.")
        return redirect("tenancy:two-factor")
    account.require_two_factor = required
    account.save(update_fields=["require_two_factor"])
    messages.success(request, "Two-factor is now " + ("required for every user." if required else "optional."))
    return redirect("tenancy:two-factor")
