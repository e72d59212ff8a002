"""R13.4 with R1: a VSA email action fires only for alerts its owner may see, and stops with its owner."""

import pytest

from alerts.conditions import Condition
from alerts.reconciler import reconcile
from notifications.models import Delivery, VsaEmailAction
from tenancy.models import Membership, Role
from tenancy.users import change
from tests.conftest import NOW
from tests.test_vsa import deliver_vsa, make_vsa


@pytest.fixture
def vsa(cast, vsa_fake):
    fake = vsa_fake
    make_vsa(cast.account_a, fake, post_alarms=False)
    yield fake


def action_of(owner, account, recipient):
    return VsaEmailAction.objects.create(account=account, owner=owner, area="backups", recipients=[recipient])


def backup_alarm(account, organization, subject):
    condition = Condition(kind="backup_alarm", subject=subject, title=f"backup failed on {subject}",
                          organization_id=organization.pk if organization else None, category="backup")
    reconcile(account, ["backup_alarm"], [condition], NOW)


def emailed(fake):
    return sorted(email["ToAddress"] for email in fake.emails)


def test_r1_4_a_limited_admins_action_fires_only_for_alerts_of_their_organizations(cast, vsa):
    action_of(cast.scoped_admin_a, cast.account_a, "scoped@ops.example")  # limited to Birch (org_a2)
    action_of(cast.admin_a, cast.account_a, "all@ops.example")

    backup_alarm(cast.account_a, cast.org_a1, "acme-job")
    deliver_vsa()
    assert emailed(vsa) == ["all@ops.example"]

    backup_alarm(cast.account_a, cast.org_a2, "birch-job")
    deliver_vsa()
    assert emailed(vsa) == ["all@ops.example", "all@ops.example", "scoped@ops.example"]


def test_r1_4_a_limited_admins_action_does_not_fire_for_an_account_wide_alert(cast, vsa):
    action_of(cast.scoped_admin_a, cast.account_a, "scoped@ops.example")
    backup_alarm(cast.account_a, None, "account-wide-job")
    deliver_vsa()
    assert emailed(vsa) == []
    assert not Delivery.objects.filter(channel="vsa9").exists()


@pytest.mark.parametrize("how", ["deactivated", "made a monitor", "membership removed"])
def test_r13_4_an_action_stops_when_its_owner_may_no_longer_own_it(cast, vsa, how):
    action_of(cast.admin_a, cast.account_a, "ops@ops.example")
    if how == "deactivated":
        change(cast.superuser_a, cast.admin_a, is_active=False)
    elif how == "made a monitor":
        change(cast.superuser_a, cast.admin_a, role=Role.MONITOR)
    else:
        Membership.objects.filter(user=cast.admin_a).delete()

    backup_alarm(cast.account_a, cast.org_a1, "acme-job")
    deliver_vsa()
    assert emailed(vsa) == []
    assert not Delivery.objects.filter(channel="vsa9").exists()


def test_r13_4_an_action_queued_before_its_owner_was_deactivated_sends_nothing(cast, vsa):
    action_of(cast.admin_a, cast.account_a, "ops@ops.example")
    backup_alarm(cast.account_a, cast.org_a1, "acme-job")
    [delivery] = Delivery.objects.filter(channel="vsa9")
    change(cast.superuser_a, cast.admin_a, is_active=False)

    assert deliver_vsa() == ["sent"]
    assert emailed(vsa) == []
    delivery.refresh_from_db()
    assert "owner" in delivery.external_ref


def test_r13_4_an_action_queued_before_its_owner_lost_the_organization_sends_nothing(cast, vsa):
    action_of(cast.scoped_admin_a, cast.account_a, "scoped@ops.example")
    backup_alarm(cast.account_a, cast.org_a2, "birch-job")
    assert Delivery.objects.filter(channel="vsa9").count() == 1
    cast.scoped_admin_a.membership.organizations.set([cast.org_a1])

    deliver_vsa()
    assert emailed(vsa) == []


def test_r1_1_an_action_whose_owner_moved_to_another_account_does_not_fire(cast, vsa):
    action_of(cast.admin_a, cast.account_a, "ops@ops.example")
    Membership.objects.filter(user=cast.admin_a).update(account=cast.account_b)

    backup_alarm(cast.account_a, cast.org_a1, "acme-job")
    deliver_vsa()
    assert emailed(vsa) == []


def test_r13_4_a_superusers_action_still_fires_for_every_organization(cast, vsa):
    action_of(cast.superuser_a, cast.account_a, "super@ops.example")
    backup_alarm(cast.account_a, cast.org_a1, "acme-job")
    backup_alarm(cast.account_a, None, "account-wide-job")
    deliver_vsa()
    assert emailed(vsa) == ["super@ops.example", "super@ops.example"]
