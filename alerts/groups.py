"""The alert list's groups (R11.1): one per organization and kind (or DBMA module), with counts."""

from django.db.models import Count, Min

from alerts.severity import of_rank, rank_expression


def open_groups(queryset) -> list[dict]:
    """Groups of `queryset` (already scoped and filtered), sorted by label, each with its
    worst severity (R20.1).

    A group is its key alone; its label is the newest alert's, so a renamed
    organization never splits one group into two rows.
    """
    rows = list(
        queryset.values("group_key", "organization", "kind").annotate(open_count=Count("id"), worst=Min(rank_expression()))
        .order_by("group_key")
    )
    labels = dict(
        queryset.filter(group_key__in=[r["group_key"] for r in rows])
        .order_by("group_key", "raised_at", "id")
        .values_list("group_key", "group_label")
    )  # the last row per key wins: the newest
    for row in rows:
        row["group_label"] = labels.get(row["group_key"], row["group_key"])
        row["severity"] = of_rank(row.pop("worst"))  # R20.1: the worst of its alerts
    return sorted(rows, key=lambda row: row["group_label"])
