"""What the reconciler does for subjects that move or leave (R15).

- `follow`: an open alert follows its condition's organization, group and label
  (R15.1). A move to another organization is recorded as a `moved` event whose
  reason a person reads ("Moved from Acme to Birch"); it is history only and fans
  nothing out — the open ticket stays where it is and is closed as usual on
  resolve, and the next ticket goes to the new organization's PSA company.
- `in_service`: conditions of a retired appliance are held back (R15.2).
- `removed`: a cleared alert whose organization row is gone, or whose appliance
  was retired, resolved because its subject left (`subject_removed`), even when
  the door that removed it (Django's admin, a shell) did not resolve it first.
"""

from collections import defaultdict

from alerts import events
from alerts.models import Alert, AlertEvent
from inventory.models import Appliance
from tenancy.models import Organization

NO_ORGANIZATION = "no organization"


def organization_names(ids) -> dict[int, str]:
    ids = {pk for pk in ids if pk is not None}
    return dict(Organization.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}


def group_of(condition) -> tuple[str, str]:
    return (
        condition.group_key or f"{condition.organization_id or 0}:{condition.kind}",
        condition.group_label or condition.title,
    )


def follow(pairs, now) -> list[Alert]:
    """Bring kept alerts to their condition's organization, group and label; record moves.

    One UPDATE per destination (organization, group), not per alert: a whole appliance
    moving is a handful of statements however many assets it has."""
    destinations, moved = defaultdict(list), defaultdict(list)
    for alert, condition in pairs:
        where = (condition.organization_id, *group_of(condition))
        if (alert.organization_id, alert.group_key, alert.group_label) == where:
            continue
        destinations[where].append(alert)
        if alert.organization_id != condition.organization_id:
            moved[(alert.organization_name or NO_ORGANIZATION, condition.organization_id)].append(alert)
    if not destinations:
        return []
    names = organization_names(organization_id for organization_id, _, _ in destinations)
    for (organization_id, group_key, group_label), alerts in destinations.items():
        Alert.objects.filter(pk__in=[a.pk for a in alerts]).update(
            organization_id=organization_id, organization_name=names.get(organization_id, ""),
            group_key=group_key, group_label=group_label,
        )
    for (was, organization_id), alerts in moved.items():
        sentence = f"Moved from {was} to {names.get(organization_id) or NO_ORGANIZATION}"
        events.record(alerts, AlertEvent.Type.MOVED, now, reason=sentence, fan_out=False)
    return [alert for alerts in moved.values() for alert in alerts]


def _retired(account) -> set[int]:
    return set(Appliance.objects.filter(account=account, retired_at__isnull=False).values_list("pk", flat=True))


def in_service(account, conditions) -> list:
    """R15.2: a retired appliance (its integration removed) raises nothing, offline or backup."""
    conditions = list(conditions)
    if not any(c.appliance_id for c in conditions):
        return conditions
    retired = _retired(account)
    return [c for c in conditions if c.appliance_id not in retired] if retired else conditions


def removed(account, alerts) -> set[int]:
    """Ids of cleared `alerts` whose organization was deleted (its name stayed, the key went)
    or whose appliance was retired, by a door that did not resolve them first (R15.2)."""
    retired = _retired(account) if any(a.appliance_id for a in alerts) else set()
    return {
        a.pk for a in alerts
        if (a.organization_id is None and a.organization_name) or a.appliance_id in retired
    }
