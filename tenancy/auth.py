"""`Authorization: Bearer <token>` for the REST API."""

from datetime import timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions

from tenancy import two_factor
from tenancy.models import ApiToken

LAST_USED_RESOLUTION = timedelta(minutes=1)


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode(errors="replace")
        if not header:
            return None
        keyword, _, plaintext = header.partition(" ")
        if keyword != self.keyword:
            return None
        token = ApiToken.authenticate(plaintext.strip())
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        if two_factor.lacks_required(token.user):
            # R1.5: the token rests until its owner enrolls; it is not revoked.
            raise exceptions.AuthenticationFailed(
                "Your account requires two-factor and your user has not turned it on: "
                "turn it on under Settings > Two-factor and this token works again."
            )
        now = timezone.now()
        # At most once a minute: a busy script must not serialise on its token's row.
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword
