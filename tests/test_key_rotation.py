"""Credentials at rest survive a key rotation: new key first, re-encrypt, drop the old key."""

from io import StringIO

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import call_command

from integrations.models import Integration

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def test_rotating_the_key_keeps_every_credential_readable(cast, settings):
    settings.FIELD_ENCRYPTION_KEY = OLD
    Integration.objects.create(account=cast.account_a, kind="datto", name="Datto",
                               credentials={"public_key": "pk-1", "secret_key": "sk-secret-1"})
    settings.FIELD_ENCRYPTION_KEY = f"{NEW},{OLD}"
    out = StringIO()
    call_command("rotate_credentials_key", stdout=out)
    assert "1 integrations" in out.getvalue()

    settings.FIELD_ENCRYPTION_KEY = NEW
    assert Integration.objects.get().credentials == {"public_key": "pk-1", "secret_key": "sk-secret-1"}


def test_without_rotation_the_new_key_alone_cannot_read_old_credentials(cast, settings):
    settings.FIELD_ENCRYPTION_KEY = OLD
    Integration.objects.create(account=cast.account_a, kind="datto", name="Datto", credentials={"secret_key": "x"})
    settings.FIELD_ENCRYPTION_KEY = NEW
    with pytest.raises(InvalidToken):
        Integration.objects.get()
