"""Credentials at rest: Fernet (AES-128-CBC + HMAC) from `cryptography`.

FIELD_ENCRYPTION_KEY may list several keys separated by commas: the first
encrypts, all decrypt, so keys can be rotated without downtime.
"""

import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models
from django.db.models.functions import Cast


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


def unreadable(queryset, field: str) -> tuple[int, int]:
    """(stored, unreadable): how many values of `field` the configured keys cannot decrypt.

    Reads the stored tokens as text (the cast skips `from_db_value`), so one bad
    row is counted instead of stopping the query.
    """
    fernet = _fernet()
    stored = bad = 0
    tokens = queryset.annotate(_token=Cast(field, models.TextField())).values_list("_token", flat=True)
    for token in tokens.iterator(chunk_size=500):
        if not token:
            continue
        stored += 1
        try:
            fernet.decrypt(token.encode())
        except InvalidToken:
            bad += 1
    return stored, bad


def mask(value: str) -> str:
    """Show a secret as its last four characters only."""
    value = str(value or "")
    return "••••" + value[-4:] if len(value) > 8 else "••••"


def encrypted_fields():
    """(model, [field names]) of every model holding an encrypted field: integration credentials,
    webhook secrets, and whatever comes next, without naming the apps that hold them."""
    from django.apps import apps

    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedJSONField)]
        if names:
            yield model, names
