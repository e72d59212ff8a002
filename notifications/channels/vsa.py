"""Kaseya VSA 9 (R13.4): conditional alarms posted as VSA alarms, and users' VSA email actions.

Targets: `alarm:<integration id>` for backup and hot-copy alarms when the
integration's option `post_alarms` is on (raised opens, resolved closes);
`email:<action id>` for each email action whose area matches the alarm and whose
owner may still see it (an action follows its owner: `vsa_actions.visible_to_owner`).
"""

from integrations import kinds
from integrations.http import VendorError, as_delivery_error
from integrations.models import Integration
from notifications.channels.base import Channel, PermanentError, TransientError, alert_url
from notifications.channels.psa import is_retry, ticket_for
from notifications.models import Delivery, VsaEmailAction
from notifications.vsa_actions import visible_to_owner
from tenancy.validation import one_line

ALARM_KINDS = {"backup_alarm", "hot_copy_alarm"}
AREA_KINDS = {VsaEmailAction.Area.BACKUPS: "backup_alarm", VsaEmailAction.Area.REPLICATION_OFFSITE: "hot_copy_alarm"}


def vsa_integration(account) -> Integration | None:
    return (
        Integration.objects.filter(account=account, kind=Integration.Kind.VSA9, enabled=True)
        .order_by("created_at", "id")
        .first()
    )


class VsaChannel(Channel):
    kind = "vsa9"

    @classmethod
    def targets_for(cls, account, events):
        events = [e for e in events if e.alert.kind in ALARM_KINDS]
        integration = vsa_integration(account) if events else None
        if integration is None:
            return []
        pairs = []
        if integration.options.get("post_alarms"):
            pairs += [(e, f"alarm:{integration.pk}") for e in events if e.type in ("raised", "resolved")]
        raised = [e for e in events if e.type == "raised"]
        alert_ids = {e.alert_id for e in raised}
        actions = VsaEmailAction.objects.filter(account=account).select_related("owner") if raised else []
        for action in actions:
            visible = visible_to_owner(action, alert_ids)
            pairs += [(e, f"email:{action.pk}") for e in raised
                      if AREA_KINDS[action.area] == e.alert.kind and e.alert_id in visible]
        return pairs

    def send(self) -> str:
        integration = vsa_integration(self.delivery.account)
        if integration is None:
            raise PermanentError("the Kaseya VSA integration was removed or disabled")
        client = kinds.get(self.kind).client_class(integration)
        target, _, key = self.delivery.target.partition(":")
        try:
            if target == "email":
                return self._email(client, integration, int(key))
            return self.open_alarm(client, integration) if self.event.type == "raised" else self.close_alarm(client)
        except VendorError as exc:
            raise as_delivery_error(exc) from exc

    def open_alarm(self, client, integration) -> str:
        agent = integration.options.get("agent_id")
        if not agent:
            raise PermanentError("no VSA agent id configured for alarms")
        ticket = ticket_for(integration, self.alert, limit=200)
        if is_retry(self.delivery):  # invariant 4: it may already exist
            found = client.find_alarm(self.alert.ref)
            if found:
                return str(found)
        return str(client.create_alarm(agent, ticket.title, ticket.description, self.alert.ref))

    def close_alarm(self, client) -> str:
        opened = Delivery.objects.filter(  # scoped: same account and alert
            account=self.delivery.account, event__alert=self.alert, event__type="raised", channel=self.kind,
            target=self.delivery.target,
        ).first()
        if opened is not None and opened.state == Delivery.State.PENDING:
            raise TransientError("the alarm is not posted yet")
        alarm = opened.external_ref if opened is not None and opened.external_ref else client.find_alarm(self.alert.ref)
        if not alarm:
            return "no alarm to close"
        client.close_alarm(alarm)
        return str(alarm)

    def _email(self, client, integration, action_id) -> str:
        action = (VsaEmailAction.objects.filter(pk=action_id, account=self.delivery.account)
                  .select_related("owner").first())
        if action is None or not action.recipients:
            return "email action removed"
        if self.alert.pk not in visible_to_owner(action, {self.alert.pk}):  # the owner changed since queued
            return "not sent: the action's owner may no longer see this alert"
        sender = integration.options.get("email_from") or "uniview@localhost"
        alert = self.alert
        body = f"{alert.kind_label}: {alert.title}\nRaised: {alert.raised_at:%Y-%m-%d %H:%M} UTC\n{alert_url(alert)}"
        client.send_email(sender, action.recipients, one_line(f"[{alert.ref}] {alert.title}")[:250], body, f"{alert.ref}:{action.pk}")
        return f"vsa-email:{action.pk}"
