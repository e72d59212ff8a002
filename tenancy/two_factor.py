"""TOTP devices through django-otp (issue 8): enrollment, verification, the QR code."""

from base64 import b32encode

import segno
from django_otp.plugins.otp_totp.models import TOTPDevice


def confirmed_device(user):
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def pending_device(user):
    """The device being enrolled: made once, kept until confirmed with a code."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def enrollment(device) -> dict:
    """What the enrollment page shows: a QR code and the key to type by hand."""
    return {
        "qr_svg": segno.make(device.config_url, error="m").svg_inline(scale=4),
        "secret": b32encode(device.bin_key).decode(),
    }


def verify(device, code: str) -> bool:
    code = (code or "").strip().replace(" ", "")
    return bool(code) and device.verify_token(code)


def confirm(device, code: str) -> bool:
    if not verify(device, code):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=device.user, confirmed=False).delete()
    return True


def turn_off(user):
    TOTPDevice.objects.filter(user=user).delete()
