"""What the overview page shows, each read set-wise from the rooms below: open alerts by severity
(R20), organizations ranked by backup compliance (R18.1's daily rows) with their trend, the worst
assets, the last 24 hours, and the integrations whose syncs fail."""

from datetime import timedelta

from django.db.models import Case, Count, Sum, Value, When
from django.db.models.functions import Length, Replace, Substr

from alerts.dismiss import open_alerts_for
from alerts.models import Alert
from alerts.severity import SEVERITIES, label
from integrations.models import Integration
from inventory.models import Asset
from reports.models import COUNTED_STATES, LETTERS, DayState, OrganizationDay, SubjectMonth
from reports.monthly import month_bounds
from tenancy.charts import sparkline

TREND_DAYS = 30
WORST = 10
BAD_STATES = (DayState.FAILED, DayState.MISSED)


def by_severity(member) -> list[dict]:
    counts = dict(open_alerts_for(member.user).values_list("severity").annotate(n=Count("id")).values_list("severity", "n"))
    return [{"severity": s, "label": label(s), "count": counts.get(s, 0)} for s in SEVERITIES]


def compliance_ranking(member, organizations, today) -> list[dict]:
    """Each organization with its latest day's ratio and a 30-day sparkline, the least compliant first;
    organizations with no history yet come last."""
    first = today - timedelta(days=TREND_DAYS - 1)
    rows = member.scope(OrganizationDay).filter(day__gte=first, day__lte=today).values_list(
        "organization_id", "day", "ratio", "protected", "compliant")
    history = {}
    for org_id, day, ratio, protected, compliant in rows:
        history.setdefault(org_id, {})[day] = (ratio, protected, compliant)
    ranked = []
    for org in organizations:
        days = history.get(org.pk, {})
        series = [None if days.get(first + timedelta(days=i)) is None else days[first + timedelta(days=i)][0]
                  for i in range(TREND_DAYS)]
        latest_day = max(days) if days else None
        ratio, protected, compliant = days[latest_day] if latest_day else (None, 0, 0)
        percent = None if ratio is None else round(100 * ratio)
        words = "no history yet" if percent is None else f"{percent}% compliant on {latest_day:%-d %b}"
        ranked.append({
            "organization": org, "percent": percent, "protected": protected, "compliant": compliant,
            "day": latest_day,
            "sparkline": sparkline([None if v is None else 100 * v for v in series],
                                   f"{org.name}: compliance over {TREND_DAYS} days, {words}"),
        })
    ranked.sort(key=lambda r: (r["percent"] is None, r["percent"] if r["percent"] is not None else 0,
                               r["organization"].name))
    return ranked


def worst_assets(member, today) -> list[dict]:
    """The assets with the most failed or missed days over the last 30 days."""
    first = today - timedelta(days=TREND_DAYS - 1)
    window = _window(first, today)
    rows = (member.scope(SubjectMonth).filter(asset__in=member.scope(Asset).values("pk"),
                                              month__gte=first.replace(day=1), month__lte=today)
            .annotate(window=window)
            .values("asset_id", "asset__name", "asset__organization__name")
            .annotate(bad=Sum(_letters("window", [LETTERS[state] for state in BAD_STATES])),
                      counted=Sum(_letters("window", [LETTERS[state] for state in COUNTED_STATES])))
            .filter(bad__gt=0).order_by("-bad", "asset__name")[:WORST])
    return [{"asset_id": r["asset_id"], "name": r["asset__name"], "organization": r["asset__organization__name"],
             "bad": r["bad"], "counted": r["counted"]} for r in rows]


def _window(first, last):
    """A month row's letters of the days first..last (at most two months)."""
    whens = []
    for month in sorted({first.replace(day=1), last.replace(day=1)}):
        start, end = max(first, month), min(last, month_bounds(month)[1])
        whens.append(When(month=month, then=Substr("states", start.day, end.day - start.day + 1)))
    return Case(*whens, default=Value(""))


def _letters(field, letters):
    """How many of `letters` the text `field` holds."""
    rest = field
    for letter in letters:
        rest = Replace(rest, Value(letter), Value(""))
    return Length(field) - Length(rest)


def last_day(member, now) -> dict:
    since = now - timedelta(hours=24)
    alerts = member.scope(Alert)
    raised = alerts.filter(raised_at__gte=since)
    return {
        "raised": raised.count(),
        "resolved": alerts.filter(resolved_at__gte=since).count(),
        "dismissed": alerts.filter(dismissed_at__gte=since).count(),
        "latest": raised.select_related("organization").order_by("-raised_at")[:5],
    }


def failing_integrations(member):
    return member.scope(Integration).filter(enabled=True, last_sync_ok=False).order_by("name")
