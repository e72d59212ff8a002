"""`users/` and `tokens/` in the REST API (issue 8).

users/: superuser-only writes (R1.3, R1.6); a superuser sees the account's people, others themselves.
tokens/: the caller's own tokens only; the secret is in the create answer, once.
"""

from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from tenancy import scoping, two_factor, users
from tenancy.fields import ScopedPrimaryKeyRelatedField
from tenancy.models import ApiToken, Organization, Role, TokenScope
from tenancy.viewsets import ScopedViewSet


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices, default=Role.MONITOR)
    all_organizations = serializers.BooleanField(
        required=False, help_text="R1.6: sees every organization, present and future. Or name `organizations`.",
    )
    organizations = ScopedPrimaryKeyRelatedField(
        queryset=Organization.objects.all(), many=True, required=False,
        help_text="The organizations a limited admin or monitor sees; none is refused unless `all_organizations`.",
    )
    is_active = serializers.BooleanField(required=False)
    pending = serializers.SerializerMethodField(help_text="Invited, no password chosen yet.")
    two_factor = serializers.SerializerMethodField()
    last_login = serializers.DateTimeField(read_only=True, allow_null=True, help_text="Null: never signed in.")

    def get_pending(self, user) -> bool:
        return users.is_pending(user)

    def get_two_factor(self, user) -> bool:
        return TOTPDevice.objects.filter(user=user, confirmed=True).exists()

    def to_representation(self, user):
        data = super().to_representation(user)
        data["role"] = user.membership.role
        data["all_organizations"] = user.membership.all_organizations
        # R1.4: a scoped caller reads only the organizations they see themselves.
        visible = scoping.scope(self.context["request"].user, user.membership.organizations.all())
        data["organizations"] = list(visible.values_list("id", flat=True))
        return data


def _rule_failed(error: users.RuleError):
    return serializers.ValidationError({error.field: [error.message]})


class UserViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
    mixins.UpdateModelMixin, viewsets.GenericViewSet,
):
    serializer_class = UserSerializer
    write_action = scoping.MANAGE  # R1.3: users and invitations are the superuser's
    pagination_class = None

    def get_queryset(self):
        return users.visible_users(self.request.user)

    def perform_create(self, serializer):
        data = serializer.validated_data
        try:
            serializer.instance = users.invite(
                self.request.user, data["email"], data.get("role", Role.MONITOR),
                data.get("organizations", []),
                all_organizations=data.get("all_organizations", False),
            )
        except users.RuleError as error:
            raise _rule_failed(error) from error

    def perform_update(self, serializer):
        data = serializer.validated_data
        try:
            users.change(
                self.request.user, serializer.instance, role=data.get("role"),
                organizations=data.get("organizations"), is_active=data.get("is_active"),
                all_organizations=data.get("all_organizations"),
            )
        except users.RuleError as error:
            raise _rule_failed(error) from error

    def get_serializer(self, *args, **kwargs):
        if self.action in ("update", "partial_update"):
            kwargs["partial"] = True  # the email is the login; it does not change here
        return super().get_serializer(*args, **kwargs)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"], url_path="resend-invite")
    def resend_invite(self, request, pk=None):
        target = self.get_object()
        try:
            users.resend(request.user, target)
        except users.RuleError as error:
            raise _rule_failed(error) from error
        return Response(status=status.HTTP_204_NO_CONTENT)


TOKEN_SCOPES = [(TokenScope.READ, "Read only"), (TokenScope.WRITE, "Read and write"), (TokenScope.INGEST, "Ingest")]


def scope_refusal(user, scope) -> str | None:
    """A token never exceeds its owner's role: refuse scopes the role does not have."""
    if scope == TokenScope.INGEST and not scoping.can(user, scoping.INGEST):
        return "Your role may not ingest inventory, so neither may your token."
    if scope == TokenScope.WRITE and not scoping.can(user, scoping.DISMISS):
        return "Your role is read only, so a token of yours can only read."
    return None


class TokenScopeField(serializers.ChoiceField):
    """Asks for one of TOKEN_SCOPES; reads any scope, `full` included (tokens from the command)."""

    def __init__(self, **kwargs):
        super().__init__(choices=TOKEN_SCOPES, **kwargs)


class TokenSerializer(serializers.ModelSerializer):
    scope = TokenScopeField(default=TokenScope.READ)
    prefix = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = ["id", "name", "scope", "prefix", "expires_at", "created_at", "last_used_at", "revoked_at"]
        read_only_fields = ["created_at", "last_used_at", "revoked_at"]
        extra_kwargs = {"name": {"required": True, "allow_blank": False}}

    def get_prefix(self, token) -> str:
        return f"{ApiToken.PREFIX}{token.key_id}"

    def validate_name(self, value):
        if not value.strip():
            raise serializers.ValidationError("Name the token, e.g. after the script that uses it.")
        return value.strip()

    def validate_scope(self, value):
        refusal = scope_refusal(self.context["request"].user, value)
        if refusal:
            raise serializers.ValidationError(refusal)
        return value

    def validate_expires_at(self, value):
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError("The expiry must be in the future.")
        return value

    def validate(self, attrs):
        refusal = two_factor.token_refusal(self.context["request"].user)
        if refusal:
            raise serializers.ValidationError(refusal)
        return attrs


class NewTokenSerializer(TokenSerializer):
    secret = serializers.CharField(read_only=True, help_text="The token itself: shown this once, stored hashed.")

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "secret"]


@extend_schema_view(create=extend_schema(responses={201: NewTokenSerializer}))
class TokenViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
    mixins.DestroyModelMixin, ScopedViewSet,
):
    """The caller's own tokens; DELETE revokes (the row stays, for the record)."""

    queryset = ApiToken.objects.all()
    serializer_class = TokenSerializer
    write_action = scoping.VIEW  # everyone manages their own tokens; read tokens still cannot write
    pagination_class = None

    def get_queryset(self):
        return super().get_queryset().filter(user=self.request.user).order_by("-created_at")  # scoped

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        token, secret = ApiToken.issue(request.user, data["scope"], data["name"], data.get("expires_at"))
        body = {**TokenSerializer(token, context={"request": request}).data, "secret": secret}
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        instance.revoke()
