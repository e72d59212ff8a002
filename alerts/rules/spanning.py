"""Spanning Microsoft 365 / Google Workspace / Salesforce backup alerts (R8).

Per mapped source (R8.1), from its daily statuses up to `now`:
- level at a date d = the worst day in the 7 days ending on d (R8.3); Salesforce
  counts Partial as Successful;
- a level raises only once it has held for 2 days: the newest status date is at
  least 2 days after the first status date of the unbroken run of dates whose
  level was that level or worse (R8.4);
- one alert per source: Failed supersedes an open Partial (R8.5); an open alert
  stays while the window holds any non-successful day, and an open Failed alert
  never steps down to Partial (R8.6).
"""

from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.urls import reverse

from alerts.categories import KINDS
from alerts.conditions import Condition
from alerts.models import Alert, AlertState
from inventory.models import SaasDailyStatus, SaasSource

NONE, PARTIAL, FAILED = 0, 1, 2
LEVEL_NAMES = {PARTIAL: "partial", FAILED: "failed"}
WINDOW_DAYS = 7
HOLD_DAYS = 2
HISTORY_DAYS = 90  # how far back a run of bad levels is traced; longer runs count as held anyway
KIND_OF_SOURCE = {"m365": "spanning_m365", "gws": "spanning_gws", "salesforce": "spanning_salesforce"}
SPANNING_SITE = "https://spanning.com"


def day_level(status: str, source_kind: str) -> int:
    if status == SaasDailyStatus.Status.FAILED:
        return FAILED
    if status == SaasDailyStatus.Status.PARTIAL and source_kind != "salesforce":  # R8.3
        return PARTIAL
    return NONE


def levels_by_date(days, source_kind) -> list[tuple]:
    """[(date, level of the 7-day window ending on that date)] for each status date, oldest first."""
    days = sorted(days)
    levels = [day_level(status, source_kind) for _, status in days]
    result, first = [], 0
    for i, (day, _) in enumerate(days):
        window_start = day - timedelta(days=WINDOW_DAYS - 1)
        while days[first][0] < window_start:  # the window slides: at most 7 days stay in it
            first += 1
        result.append((day, max(levels[first:i + 1])))
    return result


def held_since(levels, level):
    """R8.4: the first date of the unbroken run (ending at the newest date) at `level` or worse."""
    since = None
    for day, at in reversed(levels):
        if at < level:
            break
        since = day
    return since


def assess(days, source_kind, open_level=NONE) -> tuple[int, object]:
    """The level the source's alert should have now, and since when it held; NONE for no alert."""
    levels = levels_by_date(days, source_kind)
    if not levels:
        return NONE, None
    newest, now_level = levels[-1]
    if now_level == NONE:
        return NONE, None  # R8.6: the window holds only successful days
    if open_level == FAILED:
        return FAILED, held_since(levels, PARTIAL)  # R8.6: no step-down while anything is wrong
    for level in (FAILED, PARTIAL):
        since = held_since(levels, level)
        if since is not None and (newest - since).days >= HOLD_DAYS:
            return level, since
    if open_level == PARTIAL:
        return PARTIAL, held_since(levels, PARTIAL)  # R8.5: stays until superseded or cleared
    return NONE, None


def subject(source_id, level) -> str:
    return f"saas:{source_id}:{LEVEL_NAMES[level]}"


def conditions(account, now, sources=None):
    """`sources` (ids): only those sources (evaluation by due time); None: all."""
    today = now.date()
    mapped = SaasSource.objects.filter(account=account, organization__isnull=False)  # R8.1: unmapped raise nothing
    if sources is not None:
        mapped = mapped.filter(pk__in=sources)
    sources = list(mapped.select_related("organization"))
    days = defaultdict(list)
    for source_id, day, status in SaasDailyStatus.objects.filter(
        account=account, source__in=sources, date__lte=today, date__gt=today - timedelta(days=HISTORY_DAYS)
    ).values_list("source_id", "date", "status"):
        days[source_id].append((day, status))
    open_levels = _open_levels(account)
    for source in sources:
        level, since = assess(days[source.pk], source.kind, open_levels.get(source.pk, NONE))
        if level != NONE:
            yield _condition(source, level, since, days[source.pk])


def _open_levels(account) -> dict[int, int]:
    levels = {}
    for subj in Alert.objects.filter(
        account=account, kind__in=KIND_OF_SOURCE.values(), state=AlertState.OPEN
    ).values_list("subject", flat=True):
        _, source_id, name = subj.split(":")
        level = FAILED if name == "failed" else PARTIAL
        levels[int(source_id)] = max(level, levels.get(int(source_id), NONE))
    return levels


def _condition(source, level, since, days) -> Condition:
    kind = KIND_OF_SOURCE[source.kind]
    newest = max(d for d, _ in days)
    window = {d.isoformat(): s for d, s in sorted(days) if d > newest - timedelta(days=WINDOW_DAYS)}
    org = source.organization
    return Condition(
        kind=kind,
        subject=subject(source.pk, level),
        title=f"{source.get_kind_display()} {source.name}: backups {LEVEL_NAMES[level]} since {since.isoformat()}",
        organization_id=org.pk,
        group_label=f"{org.name} — {KINDS[kind]}",
        details={
            "level": LEVEL_NAMES[level],
            "source": source.name,
            "source_kind": source.kind,
            "since": since.isoformat(),
            "newest_status_date": newest.isoformat(),
            "window": window,
        },
        links=links(source),
        supersedes=(f"{kind}:{subject(source.pk, PARTIAL)}",) if level == FAILED else (),
    )


def links(source) -> dict:
    """R8.7: organization, domain (the source's portal page), module (the Spanning app), platform."""
    portal = settings.PORTAL_URL
    return {
        "organization": portal + reverse("dashboard:alerts") + f"?organization={source.organization_id}",
        "domain": portal + reverse("protect:source", args=[source.pk]),
        "module": source.app_url or SPANNING_SITE,
        "platform": SPANNING_SITE,
    }
