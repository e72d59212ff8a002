"""Which PSA an account uses, its connection test and its save check (R13.3), for every PSA kind."""

from integrations import kinds
from integrations.connection import ConnectionFailed
from integrations.http import PermanentError, TransientError
from integrations.models import Integration


def psa_kinds() -> tuple[str, ...]:
    return kinds.with_role(kinds.PSA)


def psa_integration(account) -> Integration | None:
    """R13.3: one PSA per account — its enabled PSA integration, the oldest if several."""
    return (
        Integration.objects.filter(account=account, kind__in=psa_kinds(), enabled=True)
        .order_by("created_at", "id")
        .first()
    )


def client_for(integration):
    """The kind's client (the table's `client`) for this integration."""
    return kinds.get(integration.kind).client_class(integration)


def test_connection(integration) -> str:
    """The client's test(), failures as a sentence for a person."""
    try:
        return client_for(integration).test()
    except (TransientError, PermanentError) as exc:
        raise ConnectionFailed(str(exc)) from exc
    except (KeyError, ValueError) as exc:
        raise ConnectionFailed(f"Unexpected answer or missing setting: {exc}") from exc


def save_check(probe) -> None:
    """One PSA per account; closing on resolve needs a closed status."""
    from rest_framework import serializers  # noqa: PLC0415

    others = Integration.objects.filter(account_id=probe.account_id, kind__in=psa_kinds(), enabled=True)
    if probe.enabled and probe.account_id and others.exclude(pk=probe.pk).exists():
        raise serializers.ValidationError(
            {"kind": ["This account already has a PSA: one PSA per account. Disable or remove the other first."]}
        )
    options = probe.options or {}
    if options.get("close_on_resolve") and not options.get("closed_status"):
        raise serializers.ValidationError({"options": ["Choose the closed status to close tickets on resolve."]})
