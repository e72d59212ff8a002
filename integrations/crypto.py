"""Credentials at rest: Fernet (AES-128-CBC + HMAC) from `cryptography`.

FIELD_ENCRYPTION_KEY may list several keys separated by commas: the first
encrypts, all decrypt, so keys can be rotated without downtime.
"""

import json

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.db import models


def _fernet() -> MultiFernet:
    keys = [k.strip() for k in settings.FIELD_ENCRYPTION_KEY.split(",") if k.strip()]
    return MultiFernet([Fernet(k) for k in keys])


class EncryptedJSONField(models.TextField):
    """A dict stored as a Fernet token; never readable in the database."""

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return {}
        return json.loads(_fernet().decrypt(value.encode()).decode())

    def to_python(self, value):
        if isinstance(value, dict):
            return value
        return self.from_db_value(value, None, None)

    def get_prep_value(self, value):
        return _fernet().encrypt(json.dumps(value or {}).encode()).decode()


def mask(value: str) -> str:
    """Show a secret as its last four characters only."""
    value = str(value or "")
    return "••••" + value[-4:] if len(value) > 8 else "••••"
