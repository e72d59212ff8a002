"""TOTP devices through django-otp (issue 8): enrollment, verification, the QR code, and
who must show a code (R1.5)."""

from base64 import b32encode

import segno
from django_otp.plugins.otp_totp.models import TOTPDevice

from tenancy import scoping


def confirmed_device(user):
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def account_requires(user) -> bool:
    membership = scoping.membership_of(user)
    return bool(membership and membership.account.require_two_factor)


def needs_code(user) -> bool:
    """R1.5: a user with a confirmed device, or of an account that requires two-factor, is
    signed in only by a session that passed the code step."""
    return account_requires(user) or confirmed_device(user) is not None


def lacks_required(user) -> bool:
    """The account requires two-factor and this user has not enrolled yet."""
    return account_requires(user) and confirmed_device(user) is None


TOKEN_REFUSAL = (
    "Your account requires two-factor: turn it on under Settings > Two-factor, then create the token."
)


def token_refusal(user) -> str | None:
    """R1.5: an account that requires two-factor gives no API token to a user without it."""
    return TOKEN_REFUSAL if lacks_required(user) else None


PENDING_DEVICE = "uniview_2fa_pending_device"


def pending_device(user, session):
    """The device being enrolled in this session: made once, kept until confirmed with a code.

    R1.5: bound to the session that was shown its key. A key shown to another session (someone
    who had only the password) is never the one the user confirms; `confirm` removes it.
    """
    device = TOTPDevice.objects.filter(user=user, confirmed=False, pk=session.get(PENDING_DEVICE)).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
        session[PENDING_DEVICE] = device.pk
    return device


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
