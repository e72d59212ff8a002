"""The reconciler: raise, keep, resolve, dismissal quiet time (R11.4, R14.2)."""

from datetime import timedelta

import pytest

from alerts.conditions import Condition
from alerts.dismiss import dismiss_alert
from alerts.evaluation import evaluate
from alerts.models import Alert, AlertEvent
from alerts.reconciler import reconcile
from tests.conftest import NOW

KINDS = ("appliance_offline",)


def condition(org, subject="appliance:1", **details):
    return Condition(
        kind="appliance_offline", subject=subject, title=f"{subject} offline", organization_id=org.pk,
        category="appliance", details=details,
    )


def test_it_raises_a_new_condition_with_a_raised_event(cast):
    outcome = reconcile(cast.account_a, KINDS, [condition(cast.org_a1)], NOW)
    alert = Alert.objects.get()
    assert (outcome.raised, outcome.resolved, outcome.kept) == (1, 0, 0)
    assert alert.state == "open" and alert.raised_at == NOW
    assert alert.fingerprint == "appliance_offline:appliance:1"
    assert list(alert.events.values_list("type", flat=True)) == ["raised"]


def test_it_keeps_an_open_alert_and_writes_nothing_when_nothing_changed(cast, django_assert_max_num_queries):
    reconcile(cast.account_a, KINDS, [condition(cast.org_a1)], NOW)
    with django_assert_max_num_queries(3) as ctx:
        outcome = reconcile(cast.account_a, KINDS, [condition(cast.org_a1)], NOW + timedelta(minutes=5))
    writes = [q["sql"] for q in ctx.captured_queries if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")]
    assert (outcome.raised, outcome.kept) == (0, 1)
    assert writes == []
    assert AlertEvent.objects.count() == 1


def test_r5_3_a_kept_alert_follows_its_condition_details(cast):
    reconcile(cast.account_a, KINDS, [condition(cast.org_a1, missed=1)], NOW)
    reconcile(cast.account_a, KINDS, [condition(cast.org_a1, missed=2)], NOW + timedelta(days=1))
    alert = Alert.objects.get()
    assert alert.details == {"missed": 2}
    assert alert.events.count() == 1


def test_it_resolves_a_cleared_condition(cast):
    reconcile(cast.account_a, KINDS, [condition(cast.org_a1)], NOW)
    outcome = reconcile(cast.account_a, KINDS, [], NOW + timedelta(minutes=5))
    alert = Alert.objects.get()
    assert outcome.resolved == 1
    assert (alert.state, alert.resolved_reason, alert.resolved_at) == ("resolved", "cleared", NOW + timedelta(minutes=5))
    assert list(alert.events.values_list("type", flat=True)) == ["raised", "resolved"]


def test_it_raises_again_after_a_resolve(cast):
    reconcile(cast.account_a, KINDS, [condition(cast.org_a1)], NOW)
    reconcile(cast.account_a, KINDS, [], NOW + timedelta(minutes=5))
    reconcile(cast.account_a, KINDS, [condition(cast.org_a1)], NOW + timedelta(minutes=10))
    assert Alert.objects.filter(state="open").count() == 1
    assert Alert.objects.count() == 2


def test_it_only_touches_the_kinds_it_was_given(cast):
    reconcile(cast.account_a, KINDS, [condition(cast.org_a1)], NOW)
    reconcile(cast.account_a, ("purging",), [], NOW)
    assert Alert.objects.get().state == "open"


def test_it_never_touches_another_account(cast):
    reconcile(cast.account_a, KINDS, [condition(cast.org_a1)], NOW)
    reconcile(cast.account_b, KINDS, [], NOW)
    assert Alert.objects.get().state == "open"


def test_r11_4_a_dismissed_fingerprint_stays_quiet_for_the_realert_interval(cast):
    reconcile(cast.account_a, KINDS, [condition(cast.org_a1)], NOW)
    alert = Alert.objects.get()
    dismiss_alert(cast.admin_a, alert.pk, "known, vendor ticket open", now=NOW + timedelta(hours=1))

    quiet = reconcile(cast.account_a, KINDS, [condition(cast.org_a1)], NOW + timedelta(hours=24, minutes=59))
    assert quiet.raised == 0
    assert not Alert.objects.filter(state="open").exists()

    loud = reconcile(cast.account_a, KINDS, [condition(cast.org_a1)], NOW + timedelta(hours=25))
    assert loud.raised == 1
    new = Alert.objects.get(state="open")
    assert new.pk != alert.pk
    assert new.events.get().type == "raised"  # R11.4: it fans out again


def test_r11_4_a_dismissed_condition_that_clears_meanwhile_raises_nothing_more(cast):
    reconcile(cast.account_a, KINDS, [condition(cast.org_a1)], NOW)
    dismiss_alert(cast.admin_a, Alert.objects.get().pk, now=NOW)
    reconcile(cast.account_a, KINDS, [], NOW + timedelta(hours=2))
    reconcile(cast.account_a, KINDS, [], NOW + timedelta(hours=30))
    assert Alert.objects.count() == 1
    assert Alert.objects.get().state == "dismissed"


def test_r11_4_the_realert_interval_is_an_account_setting(cast):
    cast.account_a.alert_settings.realert_hours = 2
    cast.account_a.alert_settings.save()
    reconcile(cast.account_a, KINDS, [condition(cast.org_a1)], NOW)
    dismiss_alert(cast.admin_a, Alert.objects.get().pk, now=NOW)
    assert reconcile(cast.account_a, KINDS, [condition(cast.org_a1)], NOW + timedelta(hours=1)).raised == 0
    assert reconcile(cast.account_a, KINDS, [condition(cast.org_a1)], NOW + timedelta(hours=2)).raised == 1


def test_r11_4_a_condition_may_carry_its_own_quiet_time(cast):
    def purge(**kw):
        return Condition(kind="purging", subject="appliance:9", title="purge", organization_id=cast.org_a1.pk, quiet_hours=48)

    reconcile(cast.account_a, ("purging",), [purge()], NOW)
    dismiss_alert(cast.superuser_a, Alert.objects.get().pk, now=NOW)
    assert reconcile(cast.account_a, ("purging",), [purge()], NOW + timedelta(hours=30)).raised == 0
    assert reconcile(cast.account_a, ("purging",), [purge()], NOW + timedelta(hours=48)).raised == 1


def test_r14_2_evaluating_twice_changes_nothing_the_second_time(offline_appliances):
    account = offline_appliances.a_silent.account
    first = evaluate(account, NOW)
    second = evaluate(account, NOW)
    assert (first.raised, second.raised, second.resolved, second.kept) == (2, 0, 0, 2)
    assert Alert.objects.filter(account=account, state="open").count() == 2


@pytest.mark.django_db
def test_r14_2_the_database_refuses_a_second_open_alert_for_a_fingerprint(cast):
    from django.db import IntegrityError, transaction

    reconcile(cast.account_a, KINDS, [condition(cast.org_a1)], NOW)
    original = Alert.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        original.pk = None
        original.save()


def test_r13_1_each_lifecycle_event_is_recorded_with_time_and_actor(cast):
    later, latest = NOW + timedelta(minutes=5), NOW + timedelta(minutes=10)
    reconcile(cast.account_a, KINDS, [condition(cast.org_a1, "appliance:1"), condition(cast.org_a1, "appliance:2")], NOW)
    first, second = Alert.objects.order_by("subject")
    dismiss_alert(cast.admin_a, first.pk, "on site today", now=later)
    reconcile(cast.account_a, KINDS, [], latest)
    events = list(AlertEvent.objects.order_by("alert__subject", "at").values_list("alert__subject", "type", "at", "actor", "reason"))
    assert events == [
        ("appliance:1", "raised", NOW, None, ""),
        ("appliance:1", "dismissed", later, cast.admin_a.pk, "on site today"),
        ("appliance:2", "raised", NOW, None, ""),
        ("appliance:2", "resolved", latest, None, "cleared"),
    ]
