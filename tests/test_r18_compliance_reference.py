"""R18.1: the compliance statements checked against a plain reading of the rule, day by day, over
random histories: thresholds that are not whole days, a daylight-saving change in the range,
backups that cross midnight, several tries a day, assets known from the middle of the range."""

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from inventory.models import Asset, Backup, BackupSchedule
from reports import compliance
from reports.models import OrganizationDay, ReportSettings, SubjectMonth
from tests.conftest import make_appliance, make_asset
from thresholds.models import CustomThreshold, GlobalThreshold, ThresholdAssignment

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
FIRST, LAST = date(2026, 10, 20), date(2026, 11, 3)  # Berlin leaves summer time on 10-25
DAYS = [FIRST + timedelta(days=n) for n in range((LAST - FIRST).days + 1)]
HOURS = {"Acme": 30, "Birch": 50}
STATUSES = ["success"] * 6 + ["warning", "failed", "cancelled", "running"]


def day_end(day):
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), BERLIN).astimezone(UTC)


def expected_state(asset, scheduled, backups, hours, day):
    """The rule as the spec reads, for one asset and one day; None before the asset is known."""
    end = day_end(day)
    first_seen = min([asset.created_at, *(b.started_at for b in backups)])
    if first_seen >= end:
        return None
    if hours is None or not scheduled:
        return "none"
    good = [b.finished_at for b in backups if b.status in ("success", "warning") and b.finished_at < end]
    within = bool(good) and max(good) >= end - timedelta(hours=hours)
    tries = [b for b in backups if b.status != "running" and b.started_at.astimezone(BERLIN).date() == day]
    last = max(tries, key=lambda b: b.started_at).status if tries else None
    went_badly = last in ("failed", "cancelled", "warning")
    if within:
        return "warning" if went_badly else "good"
    return "failed" if last in ("failed", "cancelled") else "missed"


def random_history(cast, seed):
    rng = random.Random(seed)
    account = cast.account_a
    ReportSettings.objects.create(account=account, time_zone="Europe/Berlin")
    GlobalThreshold.objects.create(account=account, backups_hours=HOURS["Acme"])
    custom = CustomThreshold.objects.create(account=account, name="Lenient", backups_hours=HOURS["Birch"])
    ThresholdAssignment.objects.create(threshold=custom, organization=cast.org_a2)
    assets = []
    for organization in (cast.org_a1, cast.org_a2):
        box = make_appliance(account, organization, f"box-{organization.pk}")
        for n in range(6):
            asset = make_asset(box, f"{organization.name}-{n}", rrule=None if n == 5 else "FREQ=DAILY;BYHOUR=22")
            start = datetime(2026, 10, 17, tzinfo=UTC) + timedelta(days=rng.choice([0, 0, 0, 5, 9]))
            moment = start
            while moment < datetime(2026, 11, 4, 23, tzinfo=UTC):
                moment += timedelta(hours=rng.choice([5, 11, 19, 23, 24, 24, 24, 26, 40, 60]),
                                    minutes=rng.randrange(60))
                Backup.objects.create(account=account, asset=asset, external_id=f"{asset.pk}-{moment:%j%H%M}",
                                      status=rng.choice(STATUSES), started_at=moment,
                                      finished_at=moment + timedelta(minutes=rng.choice([5, 50, 130, 400])))
            assets.append(asset)
    return assets


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_r18_1_states_and_counts_match_the_rule_read_day_by_day(cast, seed):
    assets = random_history(cast, seed)

    compliance.compute(cast.account_a, FIRST, LAST)

    counts, seen = {}, set()
    for asset in Asset.objects.filter(pk__in=[a.pk for a in assets]).select_related("organization"):
        backups = list(Backup.objects.filter(asset=asset))
        scheduled = BackupSchedule.objects.filter(asset=asset).exists()
        hours = HOURS[asset.organization.name]
        stored = {day: state for month in SubjectMonth.objects.filter(asset=asset)
                  for day, state in month.days(FIRST, LAST)}
        expected = {day: expected_state(asset, scheduled, backups, hours, day) for day in DAYS}
        assert [stored.get(day) for day in DAYS] == [expected[day] for day in DAYS], asset.name
        seen.update(expected.values())
        for day, state in expected.items():
            known = counts.setdefault((asset.organization_id, day), [0, 0])
            known[0] += state not in (None, "none")
            known[1] += state in ("good", "warning")
    rows = {(row.organization_id, row.day): [row.protected, row.compliant]
            for row in OrganizationDay.objects.filter(organization__in=[cast.org_a1, cast.org_a2])}
    assert rows == counts
    assert seen == {"good", "warning", "failed", "missed", "none", None}  # the history tries every state
