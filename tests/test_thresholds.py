"""Effective thresholds (R4.1–R4.4, R4.6): custom over global, and where each comes from."""

from datetime import timedelta

from alerts.evaluation import evaluate
from alerts.models import Alert
from tests.conftest import NOW, make_appliance, make_asset
from tests.test_backup_alarm import DUE, make_backup, open_alarms, set_global
from thresholds.effective import effective_threshold, effective_thresholds
from thresholds.models import CustomThreshold, ThresholdAssignment


def servers(cast, organizations, hours=4):
    threshold = CustomThreshold.objects.create(account=cast.account_a, name="Servers", backups_hours=hours)
    for org in organizations:
        ThresholdAssignment.objects.create(threshold=threshold, organization=org)
    return threshold


def test_r4_1_without_any_threshold_an_organization_has_none(cast):
    assert effective_threshold(cast.org_a1) is None
    assert effective_thresholds(cast.account_a).for_organization(cast.org_a1.pk) is None


def test_r4_4_the_global_threshold_applies_to_organizations_without_a_custom_one(cast):
    set_global(cast.account_a, backups_hours=24)
    effective = effective_threshold(cast.org_a1)
    assert (effective.source, effective.backups_label, effective.hot_copy_label) == ("global", "24 h — global", "24 h — global")


def test_r4_2_a_custom_threshold_takes_precedence_and_says_so(cast):
    set_global(cast.account_a)
    threshold = servers(cast, [cast.org_a1])
    effective = effective_threshold(cast.org_a1)
    assert effective.backups_label == "4 h — custom threshold 'Servers'"
    assert effective.threshold_id == threshold.pk
    assert effective_threshold(cast.org_a2).backups_label == "24 h — global"
    account_wide = effective_thresholds(cast.account_a)
    assert account_wide.for_organization(cast.org_a1.pk) == effective
    assert account_wide.for_organization(cast.org_a2.pk).source == "global"


def test_r4_2_the_set_based_answer_costs_two_queries_for_any_number_of_organizations(cast, django_assert_num_queries):
    set_global(cast.account_a)
    servers(cast, [cast.org_a1, cast.org_a2])
    with django_assert_num_queries(2):
        effective_thresholds(cast.account_a)


def test_r4_2_another_accounts_custom_threshold_never_applies(cast):
    set_global(cast.account_b)
    assert effective_thresholds(cast.account_b).custom == {}
    assert effective_threshold(cast.org_b1).source == "global"


def test_r4_2_r4_3_a_custom_threshold_overrides_global_and_deleting_it_restores_global_at_the_next_evaluation(cast):
    set_global(cast.account_a, backups_hours=48)  # due start 10-30 22:00: satisfied
    asset = make_asset(make_appliance(cast.account_a, cast.org_a1))
    make_backup(asset, DUE - timedelta(hours=1))  # the last good backup ended 10-31 21:00
    threshold = servers(cast, [cast.org_a1], hours=12)  # due start 11-01 22:00: missed
    evaluate(cast.account_a, NOW)
    [alarm] = open_alarms(cast.account_a)
    assert alarm.details["threshold"] == "12 h — custom threshold 'Servers'"
    threshold.delete()
    evaluate(cast.account_a, NOW + timedelta(minutes=5))
    alarm.refresh_from_db()
    assert (alarm.state, alarm.resolved_at) == ("resolved", NOW + timedelta(minutes=5))
    assert Alert.objects.filter(state="open").count() == 0


def test_r4_6_lowering_the_hours_raises_at_the_next_evaluation_with_the_new_origin(cast):
    threshold = set_global(cast.account_a, backups_hours=48)
    make_backup(make_asset(make_appliance(cast.account_a, cast.org_a1)), DUE - timedelta(hours=1))
    evaluate(cast.account_a, NOW)
    assert open_alarms(cast.account_a) == []
    threshold.backups_hours = 12
    threshold.save()
    evaluate(cast.account_a, NOW + timedelta(minutes=5))
    [alarm] = open_alarms(cast.account_a)
    assert alarm.details["threshold"] == "12 h — global"
