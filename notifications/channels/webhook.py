"""Signed outbound webhooks (issue 18): one JSON call per alert event and endpoint.

The shape, headers and signature are a contract with receivers (docs/webhooks.md):
`Uniview-Signature: t=<unix>,v1=<HMAC-SHA256(secret, "<t>.<body>")>` and
`Idempotency-Key: <event id>:<endpoint id>`, identical on every retry so a
receiver can drop one. The outbox owns retries; a 410 Gone disables the endpoint.
"""

import hashlib
import hmac
import json
import secrets
import time
import uuid

import requests
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from alerts.severity import severity
from integrations.http import OK, TRANSIENT, classify, retry_after, session
from integrations.url_guard import UnsafeURL
from notifications.channels.base import Channel, PermanentError, TransientError, alert_url
from notifications.models import WebhookEndpoint

SIGNATURE_HEADER = "Uniview-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
# (connect, read) seconds: a slow receiver must not hold a worker near its lease.
TIMEOUT = (5, 15)
# The state an event leaves the alert in: the body of a retry says what the event said.
STATE_AFTER = {"raised": "open", "resolved": "resolved", "dismissed": "dismissed"}


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def severity_of(alert) -> str:
    """R20.1: the alert's severity, as the table in alerts/severity.py gave it when it was raised."""
    if "severity" not in alert.get_deferred_fields() and alert.severity in WebhookEndpoint.SEVERITIES:
        return alert.severity
    return severity(alert.kind, alert.details)


def wants(endpoint, event, organization_ids) -> bool:
    """Whether `endpoint` is sent `event`: each filter left empty lets everything through."""
    alert = event.alert
    return (
        (not endpoint.events or event.type in endpoint.events)
        and (not endpoint.kinds or alert.kind in endpoint.kinds)
        and (not endpoint.severities or severity_of(alert) in endpoint.severities)
        and (not organization_ids or alert.organization_id in organization_ids)
    )


def alert_payload(event) -> dict:
    alert = event.alert
    organization = alert.organization
    return {
        "id": str(event.uuid),
        "type": f"alert.{event.type}",
        "time": event.at,
        "alert": {
            "id": alert.pk,
            "ref": alert.ref,
            "organization": {"id": organization.pk, "name": organization.name} if organization else None,
            "subject": alert.subject,
            "kind": alert.kind,
            "category": alert.category,
            "severity": severity_of(alert),
            "title": alert.title,
            "state": STATE_AFTER.get(event.type, alert.state),
            "raised_at": alert.raised_at,
            # A raised event left the alert unresolved, even when its retry runs after the resolution.
            "resolved_at": None if event.type == "raised" else alert.resolved_at,
            "details": alert.details or {},
        },
        "links": {"alert": alert_url(alert)},
    }


def ping_payload() -> dict:
    """The body of "Send test event": the same envelope, type `test`, no alert."""
    return {"id": str(uuid.uuid4()), "type": "test", "time": timezone.now(), "alert": None, "links": {}}


def encode(payload: dict) -> bytes:
    return json.dumps(payload, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False).encode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def post(endpoint, payload: dict) -> int:
    """Send `payload` to `endpoint`, signed; answer the HTTP status of a 2xx, else raise.

    410 Gone disables the endpoint (the receiver said it is gone for good), other 4xx
    are permanent, 429/5xx/network failures transient (Retry-After capped as for PSAs)."""
    body = encode(payload)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature(endpoint.secret, timestamp, body),
        IDEMPOTENCY_HEADER: f"{payload['id']}:{endpoint.pk}",
        "Uniview-Event": payload["type"],
    }
    http = session(retries=0)  # the outbox owns retries and their back-off (R13.5)
    try:
        response = http.post(endpoint.url, data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False)
    except UnsafeURL as exc:
        raise PermanentError(f"Webhook {endpoint.name}: not called. {exc}") from exc
    except requests.RequestException as exc:
        raise TransientError(f"Webhook {endpoint.name}: {type(exc).__name__}") from exc
    finally:
        http.close()
    status = response.status_code
    if status == 410:
        reason = f"The receiver answered 410 Gone on {timezone.localtime():%Y-%m-%d %H:%M %Z}."
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(enabled=False, disabled_reason=reason)
        raise PermanentError(f"Webhook {endpoint.name} answered 410 Gone; it was disabled.")
    if status == 429:
        raise TransientError(f"Webhook {endpoint.name}: rate limited (429)", retry_after=retry_after(response))
    if classify(status) == TRANSIENT:
        raise TransientError(f"Webhook {endpoint.name}: server error {status}")
    if classify(status) != OK:
        raise PermanentError(f"Webhook {endpoint.name}: refused with HTTP {status}")
    return status


class WebhookChannel(Channel):
    kind = "webhook"

    @classmethod
    def targets_for(cls, account, events):
        endpoints = WebhookEndpoint.objects.filter(account=account, enabled=True).prefetch_related("organizations")
        pairs = []
        for endpoint in endpoints:
            organization_ids = {org.pk for org in endpoint.organizations.all()}
            pairs += [(event, str(endpoint.pk)) for event in events if wants(endpoint, event, organization_ids)]
        return pairs

    def send(self) -> str:
        endpoint = WebhookEndpoint.objects.filter(pk=int(self.delivery.target), account=self.delivery.account).first()
        if endpoint is None:
            raise PermanentError("The webhook was removed.")
        if not endpoint.enabled:
            raise PermanentError(f"The webhook {endpoint.name} is disabled. {endpoint.disabled_reason}".strip())
        status = post(endpoint, alert_payload(self.event))
        return f"webhook:{endpoint.pk}:{status}"
