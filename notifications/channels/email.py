"""Email to the account's list (R13.2), through Django's mail API and so any anymail backend."""

import smtplib
import threading
from contextlib import contextmanager

from django.core.mail import EmailMultiAlternatives, get_connection

from alerts.models import AlertSettings
from notifications import grouping
from notifications.channels import email_body
from notifications.channels.base import Channel, PermanentError, TransientError, alert_url
from tenancy.validation import one_line

SUBJECTS = {
    "raised": "[{ref}] Alert: {title}",
    "resolved": "[{ref}] Resolved: {title}",
    "dismissed": "[{ref}] Dismissed: {title}",
}


class MailBatch:
    """One mail connection for a batch of sends (opened at the first, closed at the end), and
    each account's list read once per batch. Sends on several threads take turns on it; a
    failed send closes it, so the next send opens a fresh one."""

    def __init__(self):
        self._lock = threading.Lock()
        self._connection = None
        self._recipients = {}

    def recipients(self, account):
        if account.pk not in self._recipients:
            self._recipients[account.pk] = AlertSettings.for_account(account).emails
        return self._recipients[account.pk]

    def send(self, message):
        with self._lock:
            if self._connection is None:
                connection = get_connection(fail_silently=False)
                connection.open()
                self._connection = connection
            message.connection = self._connection
            try:
                message.send()
            except BaseException:
                self._close()
                raise

    def _close(self):
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except Exception:  # a connection that broke mid-send may not close cleanly
                pass

    def close(self):
        with self._lock:
            self._close()


class EmailChannel(Channel):
    kind = "email"

    @classmethod
    @contextmanager
    def batch(cls, deliveries=()):
        mail = MailBatch()
        for delivery in deliveries:  # each account's list, read on the claiming thread
            mail.recipients(delivery.event.alert.account)
        try:
            yield mail
        finally:
            mail.close()

    @classmethod
    def targets_for(cls, account, events):
        # One message per event to the whole list; the list is read at send time.
        if not AlertSettings.for_account(account).emails:
            return []
        return [(event, "account") for event in events]

    def send(self) -> str:
        alert, event = self.alert, self.event
        recipients = self.shared.recipients(alert.account) if self.shared else AlertSettings.for_account(alert.account).emails
        if not recipients:
            return "no recipients"
        members, total = grouping.members(alert)  # R17.1: a storm's email lists its alerts
        text, html = email_body.bodies(alert, event, alert_url(alert), members, total)
        message = EmailMultiAlternatives(
            # One line always: a title built from a name stored before names were validated may
            # hold a line break, and a header with one is refused (the delivery would fail for good).
            subject=one_line(SUBJECTS[event.type].format(ref=alert.ref, title=alert.title))[:250],
            body=text,
            to=recipients,
            headers={"X-Uniview-Event": str(event.uuid), "X-Uniview-Alert": alert.ref},
        )
        message.attach_alternative(html, "text/html")
        try:
            if self.shared:
                self.shared.send(message)
            else:
                message.send()
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentError(f"recipients refused: {exc}") from exc
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            raise TransientError(f"mail server: {exc}") from exc
        except Exception as exc:  # anymail raises its own errors, retryable or not
            if getattr(exc, "status_code", None) and 400 <= exc.status_code < 500 and exc.status_code != 429:
                raise PermanentError(str(exc)) from exc
            raise TransientError(str(exc)) from exc
        return f"email:{event.uuid}"
