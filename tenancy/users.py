"""Who may manage whom, and how people join and leave an account (issue 8, R1.3, R1.6).

- Users and invitations are superuser-only: a superuser invites, edits and
  deactivates anyone in the account.
- Everyone else manages nobody and sees only themselves (API.md `users/`).
- The last active superuser of an account can be neither demoted nor deactivated.
- Deactivation revokes the user's API tokens for good: a re-activated user makes new ones.

Every rule raises `RuleError(field, message)`; the API answers 400 naming the field
and the dashboard shows it as a form error. Nothing is changed when a rule fails.
Invitation links carry `settings.PORTAL_URL`, never the Host header of the request
that sent them: that header is the sender's to choose.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tenancy import scoping
from tenancy.accounts import add_member
from tenancy.models import Membership, Role


class RuleError(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def _role(user):
    membership = scoping.membership_of(user)
    return membership.role if membership else None


def is_superuser(user) -> bool:
    return _role(user) == Role.SUPERUSER


def visible_users(actor):
    """The people `actor` may see: a superuser everyone of the account, others themselves (R1.3)."""
    User = get_user_model()
    membership = scoping.membership_of(actor)
    if membership is None:
        return User.objects.none()
    people = User.objects.filter(membership__account=membership.account_id).select_related("membership")
    if membership.role != Role.SUPERUSER:
        return people.filter(pk=actor.pk)
    return people.order_by("email")


def may_manage(actor, target) -> bool:
    """Whether `actor` may edit `target` (both in one account): superusers only (R1.3)."""
    return is_superuser(actor)


def check_grant(actor, role, organizations):
    """The role and scope a superuser proposes to give."""
    account = scoping.account_of(actor)
    if not is_superuser(actor):
        raise PermissionDenied("Only a superuser manages users.")
    if role not in Role.values:
        raise RuleError("role", f"Choose one of: {', '.join(Role.values)}.")
    if any(org.account_id != account.pk for org in organizations):
        raise RuleError("organizations", "No such organization.")


def _guard_last_superuser(target, field):
    """Holds under concurrency: the superusers' rows are locked while we count them."""
    others = (
        Membership.objects.select_for_update()
        .filter(account=target.membership.account_id, role=Role.SUPERUSER, user__is_active=True)
        .exclude(user=target)
    )
    if not list(others):
        raise RuleError(field, "This is the last active superuser of the account; make another superuser first.")


@transaction.atomic
def invite(actor, email, role, organizations):
    """A new user with no password yet; the emailed link lets them choose one."""
    email = (email or "").strip().lower()
    if "@" not in email:
        raise RuleError("email", "Enter a valid email address.")
    check_grant(actor, role, organizations)
    if get_user_model().objects.filter(Q(username__iexact=email) | Q(email__iexact=email)).exists():
        raise RuleError("email", "A user with this email already exists.")
    user = add_member(scoping.account_of(actor), email, None, role, organizations)
    send_invitation(user, actor)
    return user


def invitation_link(user) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    path = reverse("invite-accept", args=[uid, default_token_generator.make_token(user)])
    return f"{settings.PORTAL_URL.rstrip('/')}{path}"


def send_invitation(user, invited_by):
    account = user.membership.account
    send_mail(
        f"You are invited to {account.name} on uniview",
        f"{invited_by.email} invited you to {account.name} on uniview.\n\n"
        f"Choose your password here (the link works once):\n{invitation_link(user)}\n\n"
        f"Your login is {user.email}.\n",
        None,
        [user.email],
    )


def is_pending(user) -> bool:
    """Invited and not accepted yet: no password chosen."""
    return not user.has_usable_password()


def resend(actor, target):
    if not may_manage(actor, target):
        raise PermissionDenied("Only a superuser manages users.")
    if not is_pending(target):
        raise RuleError("email", "This user has already accepted the invitation.")
    send_invitation(target, actor)


@transaction.atomic
def change(actor, target, role=None, organizations=None, is_active=None):
    """Edit role, scope and/or active flag; arguments left None stay as they are."""
    if not may_manage(actor, target):
        raise PermissionDenied("You may not manage this user.")
    membership = target.membership
    new_role = membership.role if role is None else role
    new_orgs = list(membership.organizations.all()) if organizations is None else list(organizations)
    if role is not None or organizations is not None:
        check_grant(actor, new_role, new_orgs)
    if membership.role == Role.SUPERUSER and target.is_active:
        if new_role != Role.SUPERUSER:
            _guard_last_superuser(target, "role")
        if is_active is False:
            _guard_last_superuser(target, "is_active")
    if is_active is False and target.pk == actor.pk:
        raise RuleError("is_active", "You cannot deactivate yourself.")
    membership.role = new_role
    membership.save(update_fields=["role"])
    if organizations is not None:
        membership.organizations.set(new_orgs)
    if is_active is not None and is_active != target.is_active:
        # An inactive user's sessions stop at the next request (ModelBackend.get_user); their
        # tokens are revoked for good as the row is saved (tenancy.models.revoke_tokens_of_inactive_user).
        target.is_active = is_active
        target.save(update_fields=["is_active"])
    return target
