"""Tenants, their customers and the people who work in them (R1)."""

import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from tenancy.validation import refuse_control_characters


class Account(models.Model):
    """One tenant: an MSP's portal. Every other object belongs to exactly one."""

    name = models.CharField(max_length=200, validators=[refuse_control_characters])
    is_demo = models.BooleanField(default=False, help_text="The demo account built by seed_demo.")
    require_two_factor = models.BooleanField(
        default=False, help_text="Every user must log in with a TOTP code (a superuser sets this)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.name


class Organization(models.Model):
    """A customer of the MSP, inside one account."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="organizations")
    name = models.CharField(max_length=200, validators=[refuse_control_characters])
    created_at = models.DateTimeField(auto_now_add=True)
    report_contact = models.EmailField(
        blank=True, help_text="The customer's contact who also receives the monthly report (R18.3)."
    )

    tenancy_organization_field = "id"

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="organization_name_unique"),
        ]

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    SUPERUSER = "superuser", "Superuser"
    ADMIN = "admin", "Admin"
    MONITOR = "monitor", "Monitor"


class Membership(models.Model):
    """A person's one role in one account, optionally limited to some organizations (R1.4).

    R1.6: "every organization" is `all_organizations`, never an empty set, so a
    limited membership whose organizations are all deleted is limited to nothing.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MONITOR)
    organizations = models.ManyToManyField(
        Organization,
        blank=True,
        related_name="scoped_memberships",
        help_text="The organizations a limited admin or monitor sees. Ignored for superusers.",
    )
    all_organizations = models.BooleanField(
        default=False,
        help_text="Sees every organization of the account, present and future (R1.6). Off: only `organizations`.",
    )

    # The zone the dashboard shows this person's dates in; empty: their browser's (tenancy/timezones.py).
    time_zone = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["account", "role"], name="membership_account_role")]

    def __str__(self):
        return f"{self.user} ({self.role} of {self.account})"


class TokenScope(models.TextChoices):
    FULL = "full", "Full rights of the user"
    READ = "read", "Read only"
    WRITE = "write", "Read and write"
    INGEST = "ingest", "Read and ingest inventory"


class ApiToken(models.Model):
    """A bearer token for scripts. Only its hash is kept; the secret is shown once."""

    PREFIX = "uv_"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True, validators=[refuse_control_characters])
    key_id = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    scope = models.CharField(max_length=8, choices=TokenScope.choices, default=TokenScope.FULL)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires.")

    def __str__(self):
        return f"{self.PREFIX}{self.key_id}… ({self.scope})"

    @staticmethod
    def _digest(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @classmethod
    def issue(cls, user, scope=TokenScope.FULL, name="", expires_at=None):
        """Create a token and answer (token, plaintext); the plaintext is not stored."""
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user,
            account=user.membership.account,
            name=name,
            key_id=key_id,
            key_hash=cls._digest(secret),
            scope=scope,
            expires_at=expires_at,
        )
        return token, f"{cls.PREFIX}{key_id}_{secret}"

    def revoke(self) -> None:
        """Stop the token working; the row stays, so its history stays."""
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])

    @classmethod
    def revoke_all(cls, user) -> int:
        return cls.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())

    @classmethod
    def authenticate(cls, plaintext: str):
        """The live token for `plaintext`, or None: revoked and expired tokens are dead."""
        if not plaintext.startswith(cls.PREFIX):
            return None
        key_id, _, secret = plaintext[len(cls.PREFIX):].partition("_")
        token = (
            cls.objects.select_related("user__membership__account")
            .filter(key_id=key_id, revoked_at__isnull=True)
            .filter(models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=timezone.now()))
            .first()
        )
        if token is None or not hmac.compare_digest(token.key_hash, cls._digest(secret)):
            return None
        return token


def revoke_tokens_of_inactive_user(sender, instance, **kwargs):
    """A deactivated user's tokens are revoked, not merely refused: re-activating the user,
    from Settings > Users or the Django admin alike, must not revive them."""
    if not instance.is_active:
        ApiToken.revoke_all(instance)


class BackgroundJob(models.Model):
    """Heavy work asked for from a page or the API (an evaluation, a sync), run by a worker
    instead of the request; the page polls it until it is finished."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    class Kind(models.TextChoices):
        EVALUATION = "evaluation", "Evaluation"
        SYNC = "sync", "Sync"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    label = models.CharField(max_length=300, help_text="What was asked for, for a person.")
    params = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                     blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    summary = models.TextField(blank=True, help_text="The outcome, written for a person.")
    result = models.JSONField(default=dict, blank=True)

    tenancy_organization_field = None

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "-created_at"], name="background_job_by_account")]

    def __str__(self):
        return f"{self.label} ({self.get_state_display().lower()})"

    @property
    def finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)
