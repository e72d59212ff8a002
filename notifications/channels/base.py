"""What every channel is: two verbs and two kinds of failure (STYLE.md §1)."""

from django.conf import settings
from django.urls import reverse


def alert_url(alert) -> str:
    """The alert's page in the dashboard: every email, ticket and alarm links back to it."""
    return settings.PORTAL_URL + reverse("dashboard:alert-detail", args=[alert.pk])


def option_int(value, name: str, vendor: str) -> int:
    """A configured id that must be numeric; anything else is a configuration error, not worth a retry."""
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise PermanentError(f"{vendor} option {name} must be a numeric id") from exc


class TransientError(Exception):
    """5xx, timeout, 429: try again later (optionally not before `retry_after` seconds)."""

    def __init__(self, message, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(Exception):
    """Bad credentials or another 4xx: stop, mark failed, tell the user."""


class Channel:
    """Subclasses send one event of an alert. They answer an external reference or ''."""

    kind = ""

    def __init__(self, delivery):
        self.delivery = delivery
        self.event = delivery.event
        self.alert = delivery.event.alert

    @classmethod
    def targets_for(cls, account, events) -> list[tuple[object, str]]:
        """The (event, target) pairs this channel should deliver."""
        raise NotImplementedError

    def send(self) -> str:
        if self.event.type == "raised":
            return self.open()
        return self.resolve()

    def open(self) -> str:
        raise NotImplementedError

    def resolve(self) -> str:
        raise NotImplementedError
