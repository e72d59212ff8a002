"""Creating tenants and their people; used by commands, the demo and tests."""

from django.contrib.auth import get_user_model
from django.db import transaction

from tenancy.models import Account, Membership, Role


@transaction.atomic
def create_account(name: str) -> Account:
    return Account.objects.create(name=name)


@transaction.atomic
def add_member(account, email: str, password: str | None, role=Role.MONITOR, organizations=(), all_organizations=None):
    """A user (username = email) with one role in `account`.

    `all_organizations` left None: every organization when no organizations are named
    (commands, the demo); the membership stores it explicitly either way (R1.6).
    """
    User = get_user_model()
    email = email.strip().lower()
    user = User.objects.filter(username=email).first()
    if user is None:
        user = User(username=email, email=email)
    if password:
        user.set_password(password)
    elif not user.pk:
        user.set_unusable_password()
    user.save()
    organizations = list(organizations)
    if all_organizations is None:
        all_organizations = not organizations
    everything = all_organizations or role == Role.SUPERUSER
    membership, _ = Membership.objects.update_or_create(
        user=user, defaults={"account": account, "role": role, "all_organizations": everything}
    )
    membership.organizations.set([] if everything else organizations)
    return user
