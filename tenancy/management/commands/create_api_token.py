from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from tenancy import two_factor
from tenancy.models import ApiToken, Membership, TokenScope
from tenancy.user_api import scope_refusal


class Command(BaseCommand):
    help = "Print a new API token for a user, once. Without --scope it carries the user's full rights."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--scope", choices=["read", "write", "ingest"], default=None)
        parser.add_argument("--name", default="")

    def handle(self, *args, email, scope, name, **options):
        user = get_user_model().objects.filter(username=email.strip().lower()).first()
        if user is None or not Membership.objects.filter(user=user).exists():
            raise CommandError(f"No member with email {email}.")
        # R1.5: no token for a user without two-factor in an account that requires it;
        # a token never exceeds its owner's role (issue 8).
        refusal = two_factor.token_refusal(user) or (scope_refusal(user, scope) if scope else None)
        if refusal:
            raise CommandError(refusal)
        _, plaintext = ApiToken.issue(user, scope or TokenScope.FULL, name)
        self.stdout.write(plaintext)
