"""Reading and saving the report settings (R18.3), shared by the API and the dashboard page."""

import io

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from PIL import Image
from rest_framework import serializers

from reports.models import ReportSettings
from reports.params import validate_zone

MAX_LOGO_BYTES = 512 * 1024
MAX_RECIPIENTS = 50
SIGNATURES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg", b"GIF87a": "image/gif",
              b"GIF89a": "image/gif"}


def validate_recipients(value):
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError("Must be a list of email addresses.")
    if len(value) > MAX_RECIPIENTS:
        raise ValidationError(f"At most {MAX_RECIPIENTS} addresses.")
    for address in value:
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError(f"{address!r} is not an email address.") from None


class ReportSettingsSerializer(serializers.ModelSerializer):
    time_zone = serializers.CharField(max_length=64, validators=[validate_zone])
    digest_recipients = serializers.JSONField(validators=[validate_recipients], required=False)
    monthly_recipients = serializers.JSONField(validators=[validate_recipients], required=False)
    has_logo = serializers.SerializerMethodField()

    class Meta:
        model = ReportSettings
        fields = ["time_zone", "digest_enabled", "digest_hour", "digest_recipients", "monthly_enabled",
                  "monthly_recipients", "msp_name", "has_logo"]

    def get_has_logo(self, instance) -> bool:
        return bool(instance.logo)


def logo_type(data: bytes) -> str | None:
    for signature, kind in SIGNATURES.items():
        if data.startswith(signature):
            return kind
    return None


def check_logo(upload) -> tuple[bytes, str]:
    """The logo's bytes and type; ValidationError naming what is wrong."""
    if upload is None:
        raise ValidationError("Choose an image file (PNG, JPEG or GIF).")
    if upload.size > MAX_LOGO_BYTES:
        raise ValidationError(f"The image is {upload.size // 1024} KB; at most 512 KB.")
    data = upload.read(MAX_LOGO_BYTES + 1)
    kind = logo_type(data)
    if kind is None:
        raise ValidationError("Must be a PNG, JPEG or GIF image.")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except Exception:
        raise ValidationError("The image could not be read; it may be damaged.") from None
    return data, kind
