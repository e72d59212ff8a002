"""Kaseya VSA 9 (R13.4): the version gate, alarms posted when enabled, and per-user email actions."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.conditions import Condition
from alerts.reconciler import reconcile
from integrations import connection as registry
from integrations.models import Integration
from notifications import outbox
from notifications.models import Delivery, VsaEmailAction
from tests.conftest import NOW, api_client

ALARM_KINDS = ["backup_alarm", "hot_copy_alarm"]


@pytest.fixture
def vsa(cast, vsa_fake):
    fake = vsa_fake
    yield fake


def make_vsa(account, fake, **options):
    values = {"post_alarms": True, "agent_id": "agent-7", "email_from": "vsa@msp-a.example"}
    values.update(options)
    return Integration.objects.create(account=account, kind="vsa9", name="VSA", base_url=fake.url,
                                      credentials=fake.credentials(), options=values)


def alarm(cast, kind="backup_alarm", subject="job-1", now=NOW, present=True):
    condition = Condition(kind=kind, subject=subject, title=f"{kind} on server-1", organization_id=cast.org_a1.pk,
                          category="backup" if kind == "backup_alarm" else "hot_copy")
    reconcile(cast.account_a, [kind], [condition] if present else [], now)


def deliver_vsa():
    states = []
    for delivery in Delivery.objects.filter(channel="vsa9", state="pending").order_by("id"):
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        states.append(outbox.deliver(delivery.pk))
    return states


@pytest.mark.parametrize("version", ["9.5.0.28", "9.5.1.0", "9.6"])
def test_r13_4_a_vsa_9_5_0_28_or_later_connects(cast, vsa, version):
    vsa.version = version
    ok, message = registry.test_connection(make_vsa(cast.account_a, vsa))
    assert ok and version in message


def test_r13_4_an_older_vsa_9_is_refused(cast, vsa):
    vsa.version = "9.5.0.27"
    ok, message = registry.test_connection(make_vsa(cast.account_a, vsa))
    assert not ok and "9.5.0.28 or later" in message


def test_r13_4_a_vsa_10_is_refused_with_a_clear_message_on_test_and_on_save(cast, vsa):
    vsa.version = "10.0.0.3"
    ok, message = registry.test_connection(make_vsa(cast.account_a, vsa))
    assert not ok and "VSA 10 is not supported" in message
    Integration.objects.all().delete()

    body = {"kind": "vsa9", "name": "VSA", "base_url": vsa.url, "credentials": vsa.credentials()}
    response = api_client(cast.superuser_a).post("/api/v1/integrations/", body, format="json")
    assert response.status_code == 400
    assert "VSA 10 is not supported" in response.json()["errors"]["base_url"][0]
    assert not Integration.objects.exists()

    vsa.version = "9.5.0.28"
    assert api_client(cast.superuser_a).post("/api/v1/integrations/", body, format="json").status_code == 201


def test_r13_4_bad_vsa_credentials_are_named(cast, vsa):
    integration = make_vsa(cast.account_a, vsa)
    integration.credentials = {"username": vsa.username, "token": "wrong"}
    ok, message = registry.test_connection(integration)
    assert not ok and "refused the credentials" in message


@pytest.mark.parametrize("kind", ALARM_KINDS)
def test_r13_4_a_conditional_alarm_is_posted_as_a_vsa_alarm_and_closed_on_resolve(cast, vsa, kind):
    make_vsa(cast.account_a, vsa)
    alarm(cast, kind)
    assert deliver_vsa() == ["sent"]
    [posted] = vsa.alarms.values()
    ref = Delivery.objects.get(channel="vsa9").event.alert.ref
    assert f"[{ref}]" in posted["AlarmSubject"] and posted["AgentId"] == "agent-7"
    assert "/alerts/" in posted["AlarmText"]

    alarm(cast, kind, now=NOW + timedelta(minutes=5), present=False)
    assert deliver_vsa() == ["sent"]
    assert posted["closed"] is True


def test_r13_4_nothing_is_posted_when_alarms_are_off_or_for_other_kinds(cast, vsa):
    integration = make_vsa(cast.account_a, vsa, post_alarms=False)
    alarm(cast)
    assert not Delivery.objects.filter(channel="vsa9").exists()
    integration.options["post_alarms"] = True
    integration.save()
    reconcile(cast.account_a, ["appliance_offline"], [Condition(
        kind="appliance_offline", subject="a1", title="offline", organization_id=cast.org_a1.pk)], NOW)
    assert not Delivery.objects.filter(channel="vsa9").exists()


def test_r13_5_a_dropped_answer_does_not_post_a_second_alarm(cast, vsa):
    make_vsa(cast.account_a, vsa)
    vsa.drop_after_acting(1)
    alarm(cast)
    assert deliver_vsa() == ["pending"]
    assert deliver_vsa() == ["sent"]
    assert len(vsa.alarms) == 1
    assert Delivery.objects.get(channel="vsa9").external_ref == str(next(iter(vsa.alarms)))


def test_r13_4_an_email_action_sends_through_the_vsa_for_its_area(cast, vsa):
    make_vsa(cast.account_a, vsa, post_alarms=False)
    VsaEmailAction.objects.create(account=cast.account_a, owner=cast.admin_a, area="replication_offsite",
                                  recipients=["ops@msp-a.example"])
    alarm(cast, "backup_alarm")
    assert not Delivery.objects.filter(channel="vsa9").exists()  # backups area has no action
    alarm(cast, "hot_copy_alarm")
    assert deliver_vsa() == ["sent"]
    [email] = vsa.emails
    assert email["ToAddress"] == "ops@msp-a.example" and "hot_copy_alarm" in email["Subject"]


def test_r13_4_email_actions_are_seen_only_by_their_creator(cast):
    mine = api_client(cast.admin_a)
    response = mine.post("/api/v1/vsa-email-actions/",
                         {"area": "backups", "recipients": "a@x.example, b@x.example c@x.example"}, format="json")
    assert response.status_code == 201, response.json()
    action = response.json()
    assert action["recipients"] == ["a@x.example", "b@x.example", "c@x.example"]
    assert [a["id"] for a in mine.get("/api/v1/vsa-email-actions/").json()["results"]] == [action["id"]]

    for other in (cast.superuser_a, cast.scoped_admin_a, cast.superuser_b):
        client = api_client(other)
        assert client.get("/api/v1/vsa-email-actions/").json()["results"] == []
        assert client.get(f"/api/v1/vsa-email-actions/{action['id']}/").status_code == 404
        assert client.patch(f"/api/v1/vsa-email-actions/{action['id']}/", {"area": "backups"},
                            format="json").status_code == 404
        assert client.delete(f"/api/v1/vsa-email-actions/{action['id']}/").status_code == 404
    assert api_client(cast.monitor_a).get("/api/v1/vsa-email-actions/").status_code == 403

    response = mine.patch(f"/api/v1/vsa-email-actions/{action['id']}/", {"recipients": "d@x.example"}, format="json")
    assert response.status_code == 200 and response.json()["recipients"] == ["d@x.example"]
    assert mine.delete(f"/api/v1/vsa-email-actions/{action['id']}/").status_code == 204
    assert not VsaEmailAction.objects.exists()


@pytest.mark.parametrize("body, field", [
    ({"area": "backups", "recipients": "a@x.example not-an-address"}, "recipients"),
    ({"area": "backups", "recipients": "  , "}, "recipients"),
    ({"area": "tape", "recipients": "a@x.example"}, "area"),
])
def test_r13_4_bad_email_actions_are_refused_naming_the_field(cast, body, field):
    response = api_client(cast.admin_a).post("/api/v1/vsa-email-actions/", body, format="json")
    assert response.status_code == 400 and field in response.json()["errors"]
    assert not VsaEmailAction.objects.exists()
