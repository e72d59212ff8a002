"""What the appliance page shows beyond the appliance's own fields: its assets' last backups and
its storage over time (from the hourly samples its polls record)."""

from datetime import UTC, datetime, timedelta

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from inventory.models import ApplianceStorageSample, Backup
from tenancy.charts import line_chart
from tenancy.templatetags.human import size

CHART_DAYS = 30


def with_last_backup(assets):
    """The assets, each with its newest backup's status and start time (`last_status`, `last_at`)."""
    newest = Backup.objects.filter(asset=OuterRef("pk")).order_by("-started_at")
    return assets.annotate(
        last_status=Subquery(newest.values("status")[:1]),
        last_at=Subquery(newest.values("started_at")[:1]),
    )


def _day(timestamp):
    return timezone.localtime(datetime.fromtimestamp(timestamp, tz=UTC)).strftime("%-d %b")


def storage_chart(appliance, now):
    """Used storage over the last 30 days, as an SVG whose label says the same in words."""
    samples = list(ApplianceStorageSample.objects.filter(appliance=appliance, at__gte=now - timedelta(days=CHART_DAYS))
                   .order_by("at"))
    points = [(s.at.timestamp(), max(s.capacity_bytes - s.free_bytes, 0)) for s in samples]
    top = max([s.capacity_bytes for s in samples] + [appliance.logical_capacity_bytes])
    label = f"Storage used over the last {CHART_DAYS} days"
    if points:
        label += f": from {size(points[0][1])} to {size(points[-1][1])} of {size(top)}"
    return line_chart(points, label, top=top or None, y_text=size, x_text=_day)
