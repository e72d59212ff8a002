"""Compliance figures read back from the history (R18.1) for the digest and the reports."""

from datetime import date, timedelta

from django.db.models import Avg, Sum

from reports.models import OrganizationDay


def ratio_of(rows) -> float | None:
    """compliant / protected summed over rows (None when nothing was protected)."""
    totals = rows.aggregate(protected=Sum("protected"), compliant=Sum("compliant"))
    return totals["compliant"] / totals["protected"] if totals["protected"] else None


def yesterday_and_average(account, yesterday: date, organizations=None) -> dict:
    """{organization id: (yesterday's ratio, the 30 days' average ratio)} and the account's under None."""
    days = OrganizationDay.objects.filter(account=account, day__gt=yesterday - timedelta(days=30), day__lte=yesterday)
    if organizations is not None:
        days = days.filter(organization__in=organizations)
    found = {}
    for row in days.values("organization_id").annotate(average=Avg("ratio")):
        found[row["organization_id"]] = [None, row["average"]]
    for organization_id, ratio in days.filter(day=yesterday).values_list("organization_id", "ratio"):
        found.setdefault(organization_id, [None, None])[0] = ratio
    found[None] = [ratio_of(days.filter(day=yesterday)), ratio_of(days)]
    return {key: tuple(value) for key, value in found.items()}
