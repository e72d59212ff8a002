"""Settings > Users, Settings > API tokens and Settings > Two-factor (issue 8, R1.3, R1.5, R1.6).

Settings > Users is the superuser's alone (R1.3): anyone else gets the 403 page.
"""

from datetime import timedelta

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django_otp import login as otp_login

from tenancy import two_factor, users
from tenancy.models import ApiToken, Organization, Role, TokenScope
from tenancy.pages import MANAGE, member_page
from tenancy.user_api import TOKEN_SCOPES, scope_refusal
from tenancy.validation import CONTROL_MESSAGE, has_control_characters, parse_id

USERS_REFUSAL = "Only a superuser manages users."
# R1.3, R1.6: users and invitations are the superuser's, refused before any lookup (so no 404/403 oracle).
users_page = member_page(require=MANAGE, refusal=USERS_REFUSAL)
users_action = member_page(methods=["POST"], require=MANAGE, refusal=USERS_REFUSAL)


def _chosen_organizations(request, member):
    ids = [pk for pk in map(parse_id, request.POST.getlist("organizations")) if pk is not None]
    # Scoped: an id outside the user's organizations is simply not found (R1.1, R1.4).
    return list(member.scope(Organization).filter(pk__in=ids))


def _all_organizations(request) -> bool:
    """R1.6: "every organization" is its own box, never read from an empty selection."""
    return request.POST.get("all_organizations") == "on"


def _users_context(member, **extra):
    return {
        # Each row names the person's organizations: read them for everyone at once.
        "people": [(p, users.is_pending(p))
                   for p in users.visible_users(member.user).prefetch_related("membership__organizations")],
        "roles": Role.choices,
        "organizations": member.scope(Organization),
        **extra,
    }


@users_page
def user_list(request, member):
    """The account's people, and the invitation form (POST invites)."""
    if request.method == "POST":
        try:
            invited = users.invite(
                member.user, request.POST.get("email"), request.POST.get("role", Role.MONITOR),
                _chosen_organizations(request, member), all_organizations=_all_organizations(request),
            )
        except users.RuleError as error:
            context = _users_context(member, errors={error.field: error.message}, values=request.POST)
            return render(request, "tenancy/users.html", context, status=400)
        messages.success(request, f"Invitation sent to {invited.email}.")
        return redirect("tenancy:users")
    return render(request, "tenancy/users.html", _users_context(member))


def _target(member, pk):
    return member.get(users.visible_users(member.user), pk=pk)


@users_page
def user_edit(request, member, pk):
    """Role and organization scope of one person (GET the form, POST saves)."""
    target = _target(member, pk)
    errors = {}
    if request.method == "POST":
        try:
            users.change(member.user, target, role=request.POST.get("role"),
                         organizations=_chosen_organizations(request, member),
                         all_organizations=_all_organizations(request))
        except users.RuleError as error:
            errors = {error.field: error.message}
        else:
            messages.success(request, f"{target.email} saved.")
            return redirect("tenancy:users")
    chosen = set(target.membership.organizations.values_list("id", flat=True))
    return render(request, "tenancy/user_edit.html", {
        "target": target, "roles": Role.choices, "errors": errors, "chosen": chosen,
        "all_chosen": target.membership.all_organizations,
        "organizations": member.scope(Organization),
    }, status=400 if errors else 200)


@users_action
def user_active(request, member, pk, active):
    """Deactivate (sessions end, tokens are revoked) or re-activate."""
    target = _target(member, pk)
    try:
        users.change(member.user, target, is_active=active)
    except users.RuleError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{target.email} {'re-activated' if active else 'deactivated'}.")
    return redirect("tenancy:users")


@users_action
def user_resend(request, member, pk):
    target = _target(member, pk)
    try:
        users.resend(member.user, target)
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


def _own_tokens(member):
    return member.scope(ApiToken).filter(user=member.user)


@member_page
def token_list(request, member):
    """The user's own tokens; POST creates one and shows its secret once."""
    errors, secret = {}, None
    if request.method == "POST":
        values, errors = _token_form(request)
        if values:
            _, secret = ApiToken.issue(member.user, values[1], values[0], values[2])
    tokens = _own_tokens(member).order_by("-created_at")
    return render(request, "tenancy/tokens.html", {
        "tokens": tokens, "scopes": TOKEN_SCOPES, "errors": errors, "secret": secret,
        "values": request.POST if errors else {}, "now": timezone.now(),
    }, status=400 if errors else 200)


@member_page(methods=["POST"])
def token_revoke(request, member, pk):
    token = member.get(_own_tokens(member), pk=pk)
    token.revoke()
    messages.success(request, f"Token {token.name or token.key_id} revoked.")
    return redirect("tenancy:tokens")


@member_page
def two_factor_settings(request, member):
    """Turn one's own TOTP on or off; a superuser may require it for the whole account."""
    device = two_factor.confirmed_device(member.user)
    context = {"device": device, "account": member.account, "is_superuser": member.can(MANAGE)}
    if device is None:
        pending = two_factor.pending_device(member.user, request.session)
        if request.method == "POST":
            if two_factor.confirm(pending, request.POST.get("code")):
                otp_login(request, pending)
                messages.success(request, "Two-factor is on: logins now ask for a code.")
                return redirect("tenancy:two-factor")
            context["error"] = "That code is not right. Enter the current code from your app."
        context.update(two_factor.enrollment(pending))
    return render(request, "tenancy/two_factor.html", context)


@member_page(methods=["POST"])
def two_factor_off(request, member):
    if member.account.require_two_factor:
        messages.error(request, "Your account requires two-factor; it stays on.")
    else:
        two_factor.turn_off(member.user)
        messages.success(request, "Two-factor is off.")
    return redirect("tenancy:two-factor")


@member_page(methods=["POST"], require=MANAGE, refusal="Only a superuser may require two-factor.")
def two_factor_require(request, member):
    account = member.account
    required = request.POST.get("required") == "on"
    if required and two_factor.confirmed_device(member.user) is None:
        messages.error(request, "Turn on two-factor for yourself first, so you are not locked out.")
        return redirect("tenancy:two-factor")
    account.require_two_factor = required
    account.save(update_fields=["require_two_factor"])
    messages.success(request, "Two-factor is now " + ("required for every user." if required else "optional."))
    return redirect("tenancy:two-factor")
