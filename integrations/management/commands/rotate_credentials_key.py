from django.core.management.base import BaseCommand
from django.db import transaction

from integrations.crypto import encrypted_fields


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret (integration credentials, webhook secrets) with the first key of "
        "FIELD_ENCRYPTION_KEY. Rotate by putting the new key first (new,old), running this, then dropping the old key."
    )

    def handle(self, *args, **options):
        counts = []
        with transaction.atomic():
            for model, names in encrypted_fields():
                count = 0
                for row in model.objects.select_for_update().order_by("pk"):
                    row.save(update_fields=names)  # decrypts with any key, encrypts with the first
                    count += 1
                counts.append(f"{count} {model._meta.verbose_name_plural}")
        self.stdout.write(f"Re-encrypted the secrets of {', '.join(counts)}.")
