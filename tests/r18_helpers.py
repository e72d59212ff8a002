"""What the R18 tests share: alerts and compliance rows written directly, as history."""

from datetime import timedelta
from itertools import count

from alerts.models import Alert
from reports.models import OrganizationDay

_ids = count(1)


def make_alert(account, organization, title, raised_at, state="open", kind="backup_alarm", **fields):
    n = next(_ids)
    return Alert.objects.create(
        account=account, organization=organization, organization_name=organization.name if organization else "",
        fingerprint=f"fp-{n}", kind=kind, subject=f"asset:{n}", title=title, group_key=f"g{n}",
        group_label=title, state=state, raised_at=raised_at, **fields,
    )


def make_days(account, organization, last_day, ratios, protected=4):
    """Organization rows ending at `last_day`, oldest first: `ratios` as compliant out of `protected`."""
    first = last_day - timedelta(days=len(ratios) - 1)
    for n, compliant in enumerate(ratios):
        OrganizationDay.objects.update_or_create(
            organization=organization, day=first + timedelta(days=n),
            defaults={"account": account, "protected": protected, "compliant": compliant,
                      "ratio": compliant / protected},
        )
