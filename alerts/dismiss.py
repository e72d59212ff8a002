"""Dismissing alerts (R11): shared by the dashboard and the API.

Dismissing is not resolving: the alert leaves the list, who/when/why is kept,
and its fingerprint stays quiet for the re-alert interval (R11.4).
"""

from django.db import transaction
from django.utils import timezone

from alerts import events
from alerts.models import Alert, AlertEvent, AlertState
from tenancy import scoping

REFUSAL = "Your role may not dismiss these alerts."


def open_alerts_for(user):
    return scoping.scope(user, Alert.objects.filter(state=AlertState.OPEN))


def _dismiss(user, queryset, reason="", now=None) -> int:
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(queryset.select_for_update(skip_locked=True).values_list("pk", flat=True))
        # Compare-and-swap: only alerts still open are ours to dismiss.
        Alert.objects.filter(pk__in=ids, state=AlertState.OPEN).update(
            state=AlertState.DISMISSED, dismissed_at=now, dismissed_by=user, dismiss_reason=reason
        )
        dismissed = list(Alert.objects.filter(pk__in=ids, dismissed_at=now, dismissed_by=user))
        events.record(dismissed, AlertEvent.Type.DISMISSED, now, actor=user, reason=reason)
    return len(dismissed)


def dismiss_closed_tickets(account, closed_by: dict[int, str], now=None) -> int:
    """R19.1: alerts whose ticket was closed in the PSA, {alert id: who closed it ("" if the PSA
    does not say)}. Dismissed with reason `closed in PSA by <who>` and no person as actor; the
    quiet time of R11.4 applies as for any dismissal. Answers how many were still open."""
    by_reason: dict[str, list[int]] = {}
    for alert_id, who in closed_by.items():
        by_reason.setdefault(f"closed in PSA by {who or 'someone in the PSA'}", []).append(alert_id)
    open_alerts = Alert.objects.filter(account=account, state=AlertState.OPEN)
    return sum(_dismiss(None, open_alerts.filter(pk__in=ids), reason, now) for reason, ids in by_reason.items())


def dismiss_alert(user, alert_id, reason="", now=None) -> int:
    """R11.2: one alert. Answers 0 when it was no longer open."""
    scoping.require(user, scoping.DISMISS, REFUSAL)
    return _dismiss(user, open_alerts_for(user).filter(pk=alert_id), reason, now)


def dismiss_group(user, group_key, reason="", now=None) -> int:
    """R11.2: one group of the list (an organization's alerts of one kind)."""
    scoping.require(user, scoping.DISMISS, REFUSAL)
    return _dismiss(user, open_alerts_for(user).filter(group_key=group_key), reason, now)


def dismiss_all(user, reason="", now=None) -> int:
    """R11.2: every open alert the user can see."""
    scoping.require(user, scoping.DISMISS, REFUSAL)
    return _dismiss(user, open_alerts_for(user), reason, now)


def dismiss_selection(user, organization_id=None, group_key=None, reason="", now=None) -> int:
    """R11.3: by organization and/or group — superuser only."""
    scoping.require(user, scoping.DISMISS_SELECTION, REFUSAL)
    if organization_id is None and not group_key:
        raise ValueError("Choose an organization, a group, or both.")
    queryset = open_alerts_for(user)
    if organization_id is not None:
        queryset = queryset.filter(organization_id=organization_id)
    if group_key:
        queryset = queryset.filter(group_key=group_key)
    return _dismiss(user, queryset, reason, now)
