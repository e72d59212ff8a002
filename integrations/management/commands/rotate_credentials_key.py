from django.core.management.base import BaseCommand
from django.db import transaction

from integrations.models import Integration


class Command(BaseCommand):
    help = (
        "Re-encrypt every integration's credentials with the first key of FIELD_ENCRYPTION_KEY. "
        "Rotate by putting the new key first (new,old), running this, then dropping the old key."
    )

    def handle(self, *args, **options):
        count = 0
        with transaction.atomic():
            for integration in Integration.objects.select_for_update().order_by("pk"):
                integration.save(update_fields=["credentials"])  # decrypts with any key, encrypts with the first
                count += 1
        self.stdout.write(f"Re-encrypted the credentials of {count} integrations.")
