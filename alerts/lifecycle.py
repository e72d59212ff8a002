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
    """Bring kept alerts to their condition's organization, group and label; record moves."""
    changed, moved = [], []
    for alert, condition in pairs:
        group_key, group_label = group_of(condition)
        if (alert.organization_id, alert.group_key, alert.group_label) == (
            condition.organization_id, group_key, group_label
        ):
            continue
        if alert.organization_id != condition.organization_id:
            moved.append((alert, alert.organization_name or NO_ORGANIZATION))
        alert.organization_id, alert.group_key, alert.group_label = condition.organization_id, group_key, group_label
        changed.append(alert)
    if not changed:
        return []
    names = organization_names(a.organization_id for a in changed)
    for alert in changed:
        alert.organization_name = names.get(alert.organization_id, "")
    Alert.objects.bulk_update(changed, ["organization", "organization_name", "group_key", "group_label"], batch_size=1000)
    by_sentence = defaultdict(list)
    for alert, was in moved:
        by_sentence[f"Moved from {was} to {alert.organization_name or NO_ORGANIZATION}"].append(alert)
    for sentence, alerts in by_sentence.items():
        events.record(alerts, AlertEvent.Type.MOVED, now, reason=sentence, fan_out=False)
    return [alert for alert, _ in moved]


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
