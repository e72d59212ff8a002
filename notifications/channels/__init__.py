"""The channel registry: kind → class. Later channels (PSA, VSA) register here."""

from notifications.channels.autotask import AutotaskChannel
from notifications.channels.bms import BmsChannel
from notifications.channels.connectwise import ConnectWiseChannel
from notifications.channels.email import EmailChannel
from notifications.channels.vorex import VorexChannel
from notifications.channels.vsa import VsaChannel
from notifications.channels.webhook import WebhookChannel

CHANNELS = {
    EmailChannel.kind: EmailChannel,
    ConnectWiseChannel.kind: ConnectWiseChannel,
    AutotaskChannel.kind: AutotaskChannel,
    BmsChannel.kind: BmsChannel,
    VorexChannel.kind: VorexChannel,
    VsaChannel.kind: VsaChannel,
    WebhookChannel.kind: WebhookChannel,
}
