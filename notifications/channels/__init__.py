"""The channel registry: kind → class. Later channels (PSA, VSA) register here."""

from notifications.channels.email import EmailChannel

CHANNELS = {
    EmailChannel.kind: EmailChannel,
}
