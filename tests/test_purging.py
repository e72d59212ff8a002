"""R10: purging insights — nearly full (< 5% free) with nothing eligible for purging."""

from datetime import timedelta

import pytest

from alerts.dismiss import dismiss_alert
from alerts.evaluation import evaluate
from alerts.models import Alert, AlertSettings
from tests.conftest import NOW, make_appliance

CAPACITY = 1000 * 1024**3


def full_appliance(cast, free_permille, eligible=0, name="full-box"):
    return make_appliance(
        cast.account_a, cast.org_a1, name, logical_capacity_bytes=CAPACITY,
        logical_free_bytes=CAPACITY * free_permille // 1000, purge_eligible_backups=eligible,
    )


def purging_alerts(account, state="open"):
    return Alert.objects.filter(account=account, kind="purging", state=state)


def test_r10_1_an_appliance_at_4_9_percent_free_with_nothing_to_purge_raises(cast):
    appliance = full_appliance(cast, 49)
    evaluate(cast.account_a, NOW)
    alert = purging_alerts(cast.account_a).get()
    assert alert.appliance_id == appliance.pk and alert.details["free_percent"] == 4.9
    assert "4.9% free" in alert.title


def test_r10_1_exactly_5_0_percent_free_is_not_below_5_percent(cast):
    full_appliance(cast, 50)
    evaluate(cast.account_a, NOW)
    assert not purging_alerts(cast.account_a).exists()


def test_r10_1_backups_eligible_for_purging_mean_no_alert(cast):
    full_appliance(cast, 10, eligible=1)
    evaluate(cast.account_a, NOW)
    assert not purging_alerts(cast.account_a).exists()


def test_r10_1_it_resolves_when_backups_become_eligible_or_space_is_freed(cast):
    eligible_later = full_appliance(cast, 30, name="box-1")
    freed_later = full_appliance(cast, 30, name="box-2")
    evaluate(cast.account_a, NOW)
    assert purging_alerts(cast.account_a).count() == 2

    eligible_later.purge_eligible_backups = 4
    eligible_later.save()
    freed_later.logical_free_bytes = CAPACITY // 10
    freed_later.save()
    evaluate(cast.account_a, NOW + timedelta(minutes=5))
    assert purging_alerts(cast.account_a).count() == 0
    assert purging_alerts(cast.account_a, "resolved").count() == 2


def test_r10_2_the_purging_setting_switches_them_all_off(cast):
    full_appliance(cast, 10)
    evaluate(cast.account_a, NOW)
    AlertSettings.objects.filter(account=cast.account_a).update(purging_alerts=False)
    evaluate(cast.account_a, NOW + timedelta(minutes=5))
    assert not purging_alerts(cast.account_a).exists()
    assert purging_alerts(cast.account_a, "resolved").get().resolved_reason == "cleared"


def test_r10_3_dismissed_without_correction_it_returns_24_hours_after_the_dismissal(cast):
    # The account's re-alert interval is longer, to show R10.3 uses its own 24 hours.
    AlertSettings.objects.filter(account=cast.account_a).update(realert_hours=72)
    full_appliance(cast, 10)
    evaluate(cast.account_a, NOW)
    first = purging_alerts(cast.account_a).get()
    dismissed_at = NOW + timedelta(hours=1)
    assert dismiss_alert(cast.admin_a, first.pk, "cleaning up later", now=dismissed_at) == 1

    evaluate(cast.account_a, dismissed_at + timedelta(hours=23, minutes=59))
    assert not purging_alerts(cast.account_a).exists()

    evaluate(cast.account_a, dismissed_at + timedelta(hours=24))
    second = purging_alerts(cast.account_a).get()
    assert second.pk != first.pk and second.fingerprint == first.fingerprint


def test_r10_3_corrected_during_the_quiet_day_it_does_not_return(cast):
    appliance = full_appliance(cast, 10)
    evaluate(cast.account_a, NOW)
    dismiss_alert(cast.admin_a, purging_alerts(cast.account_a).get().pk, "", now=NOW)
    appliance.purge_eligible_backups = 2
    appliance.save()
    evaluate(cast.account_a, NOW + timedelta(hours=25))
    assert not purging_alerts(cast.account_a).exists()


@pytest.mark.parametrize("capacity", [0])
def test_r10_1_an_appliance_without_a_reported_capacity_raises_nothing(cast, capacity):
    make_appliance(cast.account_a, cast.org_a1, "new-box", logical_capacity_bytes=capacity,
                   logical_free_bytes=0, purge_eligible_backups=0)
    evaluate(cast.account_a, NOW)
    assert not purging_alerts(cast.account_a).exists()
