from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from integrations import kinds
from integrations.connection import ConnectionFailed, save_check
from integrations.models import Integration
from integrations.url_guard import UnsafeURL, check
from tenancy import scoping


def _option(kinds, description, kind=None):
    schema = {"description": f"{kinds}: {description}"}
    if kind:
        schema["type"] = kind
    return schema


_ID = "an id in the PSA (a number, or a string of digits)"

# The options each kind reads (a new kind documents its own here); others are kept and ignored.
OPTIONS_SCHEMA = {
    "type": "object",
    "additionalProperties": True,
    "description": "Settings of this kind of integration; each key names the kinds that read it.",
    "properties": {
        "organization": _option("unitrends", "the organization (id) its appliance is created in on the first sync.", "integer"),
        "appliance": _option("unitrends", "the inventory appliance (id) it fills, if not its own.", "integer"),
        "verify_tls": _option("unitrends", "false accepts the appliance's self-signed certificate.", "boolean"),
        "default_company": _option("connectwise, autotask, bms, vorex",
                                   "the company for an organization without `psa_company`.", "string"),
        "board": _option("connectwise, autotask, bms", f"the service board or queue, {_ID}."),
        "status": _option("connectwise, autotask, bms", f"a new ticket's status, {_ID}."),
        "priority": _option("connectwise, autotask, bms, vorex", f"a new ticket's priority, {_ID}."),
        **{f"priority_{name}": _option("connectwise, autotask, bms, vorex",
                                       f"R20.1: the priority of a ticket for a {name} alert (else `priority`), {_ID}.")
           for name in ("critical", "warning", "info")},
        "ticket_type": _option("connectwise, autotask, bms", f"a new ticket's type, {_ID}."),
        "source": _option("autotask", f"a new ticket's source (8, monitoring alert, by default), {_ID}."),
        "close_on_resolve": _option("connectwise, autotask, bms, vorex",
                                    "close the ticket when its alert resolves (needs `closed_status`).", "boolean"),
        "closed_status": _option("connectwise, autotask, bms, vorex", f"the status a closed ticket gets, {_ID}."),
        "rate_per_minute": _option("connectwise, autotask, bms, vorex", "at most this many calls a minute (600).", "integer"),
        "post_alarms": _option("vsa9", "raise and close an alarm in VSA for each alert.", "boolean"),
        "agent_id": _option("vsa9", "the VSA agent the alarms are raised on.", "string"),
        "email_from": _option("vsa9", "the sender of VSA email actions.", "string"),
    },
}


@extend_schema_field(OPTIONS_SCHEMA)
class OptionsField(serializers.JSONField):
    pass


class IntegrationSerializer(serializers.ModelSerializer):
    """Credentials are write-only; reads show them masked (never in full)."""

    credentials = serializers.DictField(child=serializers.CharField(allow_blank=True), write_only=True, required=False)
    credentials_masked = serializers.SerializerMethodField(
        help_text="Each credential masked (never in full): what is set, not what it is.")
    options = OptionsField(required=False)
    suspicious_empty_poll = serializers.SerializerMethodField(
        help_text="R15.3: what the vendor suddenly answered empty; those rows are kept until a poll "
                  "at least an hour later agrees. Empty when nothing is held back.",
    )

    class Meta:
        model = Integration
        fields = [
            "id", "kind", "name", "base_url", "credentials", "credentials_masked", "options", "enabled",
            "last_sync_at", "last_sync_ok", "last_error", "suspicious_empty_poll", "created_at",
        ]
        read_only_fields = ["last_sync_at", "last_sync_ok", "last_error", "created_at"]

    @extend_schema_field({"type": "array", "items": {"type": "object", "properties": {
        "detail": {"type": "string"}, "since": {"type": "string", "format": "date-time", "nullable": True}},
        "required": ["detail", "since"]}})
    def get_suspicious_empty_poll(self, integration) -> list:
        return [{"detail": s["detail"], "since": s["since"].isoformat() if s["since"] else None}
                for s in integration.suspicions()]

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
    def get_credentials_masked(self, integration) -> dict:
        return integration.masked_credentials()

    def validate_base_url(self, value):
        try:
            return check(value) if value else value  # issue 7: the outbound URL guard
        except UnsafeURL as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def validate_options(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("Send an object.")
        return value

    def validate(self, attrs):
        kind = attrs.get("kind", getattr(self.instance, "kind", None))
        if self.instance and "kind" in attrs and attrs["kind"] != self.instance.kind:
            raise serializers.ValidationError({"kind": ["The kind of an integration cannot change."]})
        if "credentials" in attrs:
            merged = dict(self.instance.credentials if self.instance else {})
            # A blank value keeps the stored secret, so a form can leave it untouched.
            merged.update({k: v for k, v in attrs["credentials"].items() if v != ""})
            attrs["credentials"] = merged
        needed = kinds.get(kind).credential_fields if kinds.get(kind) else ()
        have = attrs.get("credentials", getattr(self.instance, "credentials", {}) or {})
        missing = [name for name in needed if not have.get(name)]
        if missing:
            raise serializers.ValidationError({"credentials": [f"Missing: {', '.join(missing)}."]})
        self._save_check(kind, attrs)
        return attrs

    def _save_check(self, kind, attrs):
        if not getattr(kinds.get(kind), "save_check", ""):
            return
        probe = Integration(kind=kind, credentials=attrs.get("credentials", getattr(self.instance, "credentials", {})),
                            base_url=attrs.get("base_url", getattr(self.instance, "base_url", "")),
                            options=attrs.get("options", getattr(self.instance, "options", {})),
                            enabled=attrs.get("enabled", getattr(self.instance, "enabled", True)),
                            pk=getattr(self.instance, "pk", None))
        # The account the integration belongs to (checks such as "one PSA per account" need it).
        probe.account_id = getattr(self.instance, "account_id", None) or self.context.get("account_id")
        if probe.account_id is None and self.context.get("request") is not None:
            probe.account_id = getattr(scoping.account_of(self.context["request"].user), "pk", None)
        try:
            save_check(probe)
        except ConnectionFailed as exc:
            raise serializers.ValidationError({"base_url": [str(exc)]}) from exc
