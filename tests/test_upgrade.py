"""R2.2: versions compare numerically; one account alert lists appliances older than 10.6.1."""

import pytest

from alerts.evaluation import evaluate
from alerts.models import Alert
from inventory.versions import parse_version, supports_category_toggles
from tests.conftest import NOW, make_appliance


@pytest.mark.parametrize("version, supported", [
    ("10.10.0", True),   # R2.2: 10 > 6 numerically, not as text
    ("10.6.1", True),
    ("10.6.1-3.202611", True),
    ("11", True),
    ("10.6.0", False),
    ("9.9", False),
    ("10.5.10", False),
])
def test_r2_2_versions_compare_numerically(version, supported):
    assert supports_category_toggles(version) is supported


@pytest.mark.parametrize("malformed", ["", "ten.six", "v10.6.1", ".10", None])
def test_r2_2_a_malformed_version_is_unreadable_and_counts_as_older(malformed):
    assert parse_version(malformed) is None
    assert supports_category_toggles(malformed) is False


@pytest.mark.slow
def test_r2_2_parsed_versions_pad_to_three_parts():
    assert parse_version("9.9") == (9, 9, 0) < (10, 6, 1) < parse_version("10.10.0") == (10, 10, 0)


def test_r2_2_one_alert_lists_every_appliance_older_than_10_6_1(cast):
    make_appliance(cast.account_a, cast.org_a1, "new-box", version="10.10.0")
    make_appliance(cast.account_a, cast.org_a1, "old-box", version="9.9")
    make_appliance(cast.account_a, cast.org_a2, "odd-box", version="ten.six")
    make_appliance(cast.account_a, cast.org_a2, "unsynced-box", version="")
    make_appliance(cast.account_b, cast.org_b1, "other-msp-old", version="10.5.0")

    evaluate(cast.account_a, NOW)

    alert = Alert.objects.get(account=cast.account_a, kind="appliance_upgrade")
    listed = [row["appliance"] for row in alert.details["appliances"]]
    assert listed == ["old-box", "odd-box"]  # a blank version is not known yet, so not listed
    assert alert.organization_id is None and "2 appliances" in alert.title
    assert "other-msp-old" not in str(alert.details)  # R1.1


def test_r2_2_the_upgrade_alert_follows_the_list_and_resolves_when_none_is_left(cast):
    old = make_appliance(cast.account_a, cast.org_a1, "old-box", version="10.5.3")
    older = make_appliance(cast.account_a, cast.org_a1, "older-box", version="9.1.0")
    evaluate(cast.account_a, NOW)

    older.version = "10.6.1"
    older.save()
    evaluate(cast.account_a, NOW)
    alert = Alert.objects.get(kind="appliance_upgrade")
    assert alert.state == "open" and [r["appliance"] for r in alert.details["appliances"]] == ["old-box"]

    old.version = "10.10.0"
    old.save()
    evaluate(cast.account_a, NOW)
    alert.refresh_from_db()
    assert alert.state == "resolved" and alert.resolved_reason == "cleared"
    assert Alert.objects.filter(kind="appliance_upgrade").count() == 1
