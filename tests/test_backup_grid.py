"""The 30-day backup grid (issue 14 item 2): a cell a day per asset — good, warning, failed,
missed (a schedule started and nothing ran), none scheduled — in the appliance's time zone."""

from datetime import timedelta

from inventory.backup_grid import rows
from inventory.models import Asset, Backup
from tests.conftest import NOW, make_appliance, make_asset


def backup(asset, started, status):
    Backup.objects.create(account=asset.account, asset=asset, external_id=f"{started:%Y%m%d%H%M}", status=status,
                          started_at=started, finished_at=started + timedelta(minutes=20))


def grid(asset, now):
    fresh = Asset.objects.select_related("appliance").prefetch_related("backup_schedules").get(pk=asset.pk)
    return dict(rows([fresh], now)[0].days)


def test_each_day_is_good_warning_failed_missed_or_none_scheduled(cast):
    daily = make_asset(make_appliance(cast.account_a, cast.org_a1), "daily")  # every day at 22:00 UTC
    evening = NOW.replace(hour=22)
    backup(daily, evening - timedelta(days=1), "success")
    backup(daily, evening - timedelta(days=2), "warning")
    backup(daily, evening - timedelta(days=3), "failed")
    backup(daily, evening - timedelta(days=3, hours=1), "cancelled")
    backup(daily, evening - timedelta(days=4), "failed")
    backup(daily, evening - timedelta(days=4, hours=2), "success")  # a retry that worked: a good day
    days = grid(daily, NOW)
    today = NOW.date()
    assert len(days) == 30 and min(days) == today - timedelta(days=29) and max(days) == today
    assert days[today] == "none"  # today's 22:00 start is still to come
    assert [days[today - timedelta(days=n)] for n in range(1, 6)] == ["good", "warning", "failed", "good", "missed"]
    assert days[today - timedelta(days=29)] == "missed"


def test_an_asset_without_schedule_shows_none_scheduled_except_where_backups_ran(cast):
    manual = make_asset(make_appliance(cast.account_a, cast.org_a1), "manual", rrule=None)
    backup(manual, NOW - timedelta(days=6), "success")
    days = grid(manual, NOW)
    assert days.pop(NOW.date() - timedelta(days=6)) == "good"
    assert set(days.values()) == {"none"}


def test_days_follow_the_appliances_time_zone(cast):
    appliance = make_appliance(cast.account_a, cast.org_a1, timezone="America/New_York")
    asset = make_asset(appliance, "ny", rrule=None)
    backup(asset, NOW.replace(hour=3) - timedelta(days=1), "success")  # 03:00 UTC is 22:00 the day before in New York
    days = grid(asset, NOW)
    assert days[NOW.date() - timedelta(days=2)] == "good"
    assert days[NOW.date() - timedelta(days=1)] == "none"
