from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenancy.accounts import add_member, create_account
from tenancy.models import Role


class Command(BaseCommand):
    help = "Create a tenant (an MSP's portal) and its first superuser."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--superuser-email", required=True)
        parser.add_argument("--password", required=True)

    def handle(self, *args, name, superuser_email, password, **options):
        if get_user_model().objects.filter(username=superuser_email.strip().lower()).exists():
            raise CommandError(f"{superuser_email} already belongs to an account.")
        try:
            validate_password(password)
        except ValidationError as exc:
            raise CommandError("password: " + " ".join(exc.messages)) from exc
        account = create_account(name)
        add_member(account, superuser_email, password, role=Role.SUPERUSER)
        self.stdout.write(f"Account {account.pk} {account.name!r} created; superuser {superuser_email}.")
