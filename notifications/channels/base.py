"""What every channel is: two verbs and two kinds of failure (STYLE.md §1).

The two failures are the vendors' own (`integrations.http`): a channel's client raises
them, the outbox reads them.
"""

from contextlib import contextmanager
from functools import lru_cache

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

from integrations.http import PermanentError, TransientError

__all__ = ["Channel", "PermanentError", "TransientError", "alert_url"]


def alert_url(alert) -> str:
    """The alert's page in the dashboard: every email, ticket and alarm links back to it."""
    before, after = _alert_path(get_script_prefix(), get_urlconf())
    return f"{settings.PORTAL_URL}{before}{alert.pk}{after}"


_MARKER = "918273645"


@lru_cache(maxsize=8)
def _alert_path(script_prefix, urlconf) -> tuple[str, str]:
    """The alert page's path around its id, reversed once (a delivery is cheaper without a
    `reverse` of its own: the fan-out sends thousands a second)."""
    before, after = reverse("dashboard:alert-detail", args=[int(_MARKER)], urlconf=urlconf).split(_MARKER)
    return before, after


class Channel:
    """Subclasses send one event of an alert. They answer an external reference or ''."""

    kind = ""

    def __init__(self, delivery, shared=None):
        self.delivery = delivery
        self.event = delivery.event
        self.alert = delivery.event.alert
        # What one batch of this channel's deliveries shares (`shared()`), or None.
        self.shared = shared

    @classmethod
    @contextmanager
    def batch(cls, deliveries=()):
        """What the sends of one batch share, handed to each as `shared` (an email batch shares
        one SMTP connection). Sends may run on several threads: it must be thread-safe. What it
        can read for all of `deliveries` (this channel's of the batch) it reads here, on the
        claiming thread, so the sending threads need no database connection of their own."""
        yield None

    @classmethod
    def for_kind(cls, kind: str):
        """This channel class serving one integration kind of the table (a PSA channel serves
        each PSA kind under that kind's name)."""
        if cls.kind == kind:
            return cls
        return type(cls.__name__, (cls,), {"kind": kind, "__module__": cls.__module__})

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
