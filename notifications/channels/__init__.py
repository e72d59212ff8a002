"""The channel registry: kind → class. Email and webhooks are notifications' own; the
PSA and RMM channels come from the table of integration kinds (`integrations.kinds`),
one per kind that names a channel."""

from integrations import kinds
from notifications.channels.email import EmailChannel
from notifications.channels.webhook import WebhookChannel


def _integration_channels() -> dict:
    return {kind.value: kinds.resolve(kind.channel).for_kind(kind.value) for kind in kinds.TABLE if kind.channel}


CHANNELS = {
    EmailChannel.kind: EmailChannel,
    **_integration_channels(),
    WebhookChannel.kind: WebhookChannel,
}
