"""R17.1 storm control with real workers, the ConnectWise fake and the SMTP fake: past the
account's limit, the alerts of one kind and root cause in one organization go out as one
grouped ticket and one grouped email, updated as alerts join or resolve, closed with the last."""

import re
import time
from datetime import timedelta
from itertools import count

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts.conditions import Condition
from alerts.evaluation import evaluate
from alerts.models import Alert, AlertSettings
from alerts.reconciler import reconcile
from fakes.psa import ConnectWiseFake, make_psa
from inventory.models import Appliance, Backup
from notifications.models import Delivery
from notifications.tasks import sweep
from tests.conftest import NOW, api_client, build_cast, make_appliance, make_asset
from tests.workers import Worker, psa_mail_worker, wait_for
from thresholds.changes import save_global

_ids = count(1)


def settled():
    return Delivery.objects.exists() and not Delivery.objects.exclude(state="sent").exists()


def nudge_until_settled(timeout=40):
    """What beat does every minute, with the back-off skipped so the test does not wait for it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if settled():
            return True
        Delivery.objects.filter(state="pending", claimed_until__isnull=True).update(
            next_attempt_at=timezone.now() - timedelta(seconds=1)
        )
        sweep()
        time.sleep(0.5)
    return False


def back_up(assets, at):
    Backup.objects.bulk_create([
        Backup(account=a.account, asset=a, external_id=f"good-{next(_ids)}", status="success",
               started_at=at - timedelta(hours=1), finished_at=at)
        for a in assets
    ])


def evaluate_at(account, now):
    """The appliances keep in touch, so only the backup alarms change."""
    Appliance.objects.filter(account=account).update(last_contact_at=now)
    evaluate(account, now)


def storm_ticket(fake, storm):
    [ticket] = fake.matching(f"[{storm.ref}]")
    return ticket


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_r17_1_fifty_assets_missing_their_backup_open_one_ticket_listing_fifty_that_closes_with_the_last(tmp_path):
    with psa_mail_worker(tmp_path) as stack:
        psa, smtp, log = stack.psa, stack.smtp, stack.log
        cast = build_cast()
        account = cast.account_a
        make_psa(account, "connectwise", psa, close_on_resolve=True)
        save_global(account, {"backups_hours": 24, "hot_copy_hours": 24})
        box = make_appliance(account, cast.org_a1, "acme-box")
        acme = [make_asset(box, f"acme-{n:02d}") for n in range(50)]
        birch_box = make_appliance(account, cast.org_a2, "birch-box")
        [make_asset(birch_box, f"birch-{n}") for n in range(3)]  # within the limit: tickets of their own

        # 1. One evaluation raises 50 alarms in Acme: one ticket and one email list all of them.
        evaluate(account, NOW)
        storm = Alert.objects.get(kind="alert_storm")
        members = Alert.objects.filter(kind="backup_alarm", organization=cast.org_a1)
        assert members.count() == 50 and set(members.values_list("storm", flat=True)) == {storm.pk}
        assert storm.organization_id == cast.org_a1.pk and "Acme" in storm.title
        assert wait_for(settled, timeout=40), log()
        assert len(psa.tickets) == 1 + 3, psa.titles()  # Acme's storm, and Birch's three alarms on their own
        ticket = storm_ticket(psa, storm)
        assert "Alerts in this storm (50):" in ticket["description"]
        assert all(f"[{a.ref}]" not in t for a in members for t in psa.titles())  # no ticket of its own
        assert all(a.ref in ticket["description"] for a in members)
        assert wait_for(lambda: len(smtp.messages) == 4, timeout=15), log()
        [storm_mail] = [m for m in smtp.messages if storm.ref in m["Subject"]]
        assert "Alerts in this storm (50)" in storm_mail.get_body(("plain",)).get_content()

        # Each alert still exists on its own in the API, and says which storm sends it.
        listed = api_client(cast.superuser_a).get(
            f"/api/v1/alerts/?organization={cast.org_a1.pk}&kind=backup_alarm&page_size=100")
        assert listed.status_code == 200 and len(listed.json()["results"]) == 50
        assert {row["storm"] for row in listed.json()["results"]} == {storm.pk}

        # 2. Two more assets miss their backup later: they join, a note says so, no second ticket.
        late = [make_asset(box, f"acme-late-{n}") for n in range(2)]
        evaluate_at(account, NOW + timedelta(minutes=5))
        assert Alert.objects.filter(storm=storm, state="open").count() == 52
        assert wait_for(lambda: settled() and storm_ticket(psa, storm).get("notes"), timeout=30), log()
        assert len(psa.tickets) == 4, psa.titles()
        [joined] = storm_ticket(psa, storm)["notes"]
        assert "2 more alert(s) joined" in joined and all(a.name in joined for a in late)

        # 3. Ten are fixed: a note, the ticket stays open, nothing is emailed per alert.
        back_up(acme[:10], NOW + timedelta(minutes=30))
        evaluate_at(account, NOW + timedelta(hours=1))
        assert wait_for(lambda: settled() and len(storm_ticket(psa, storm)["notes"]) == 2, timeout=30), log()
        assert "10 alert(s) resolved" in storm_ticket(psa, storm)["notes"][1]
        assert "42 still open" in storm_ticket(psa, storm)["notes"][1]
        assert str(storm_ticket(psa, storm)["status"]) != "9"

        # 4. The last ones are fixed: the storm resolves and its one ticket closes.
        back_up(acme[10:] + late, NOW + timedelta(hours=2))
        evaluate_at(account, NOW + timedelta(hours=3))
        storm.refresh_from_db()
        assert storm.state == "resolved"
        assert wait_for(lambda: settled() and str(storm_ticket(psa, storm)["status"]) == "9", timeout=30), log()
        assert len(psa.tickets) == 4, psa.titles()
        assert len(psa.calls("POST", 201)) - 2 == 4  # 4 tickets + the 2 notes
        assert wait_for(lambda: len(smtp.messages) == 5, timeout=15), log()  # + the storm's one resolved email
        assert "Resolved" in smtp.messages[-1]["Subject"] and storm.ref in smtp.messages[-1]["Subject"]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_r17_1_an_answer_lost_after_the_grouped_ticket_was_made_never_opens_a_second_one(tmp_path):
    psa = ConnectWiseFake().start()
    psa.drop_after_acting(1)  # the storm's ticket is made, its answer is lost
    worker = Worker(tmp_path / "worker.log").start()
    try:
        cast = build_cast()
        AlertSettings.objects.filter(account=cast.account_a).update(emails=[])
        make_psa(cast.account_a, "connectwise", psa)
        for n in range(12):
            make_appliance(cast.account_a, cast.org_a1, f"silent-{n}", last_contact_at=NOW - timedelta(hours=1))
        evaluate(cast.account_a, NOW)
        storm = Alert.objects.get(kind="alert_storm")
        assert Alert.objects.filter(storm=storm).count() == 12
        assert nudge_until_settled(), (tmp_path / "worker.log").read_text()[-3000:]
        [ticket] = psa.tickets.values()
        assert ticket["title"].endswith(f"[{storm.ref}]")
        assert len(psa.calls("POST")) == 1  # the retry found the ticket by the storm's ref
        assert Delivery.objects.get().attempts == 2
    finally:
        worker.stop()
        psa.stop()


def condition(org, n, cause="scheduled_backup_did_not_run"):
    return Condition(kind="backup_alarm", subject=f"asset:{n}", title=f"No good backup of server-{n}",
                     organization_id=org.pk, details={"root_cause": cause})


@pytest.mark.django_db
def test_r17_1_the_limit_counts_the_whole_evaluation_across_batches_and_one_more_than_it_storms(cast):
    """Ten alarms stay on their own; the eleventh of the same evaluation (in a later batch) storms,
    and the ten sent alone so far lose their own ticket and email before anything is sent."""
    account = cast.account_a
    make_psa(account, "connectwise", ConnectWiseFake())  # never called: only deliveries are read
    ten = [condition(cast.org_a1, n) for n in range(10)]
    other_cause = [condition(cast.org_a1, 100 + n, cause="last_backup_failed") for n in range(3)]
    reconcile(account, ("backup_alarm",), ten + other_cause, NOW, batch_size=4)
    assert not Alert.objects.filter(kind="alert_storm").exists()
    assert Delivery.objects.filter(channel="connectwise").count() == 13

    Alert.objects.all().delete()
    eleven = [condition(cast.org_a2, n) for n in range(11)]
    reconcile(account, ("backup_alarm",), eleven + other_cause, NOW, batch_size=4)
    storm = Alert.objects.get(kind="alert_storm")
    assert Alert.objects.filter(storm=storm).count() == 11
    assert Alert.objects.filter(storm__isnull=True, kind="backup_alarm").count() == 3  # another cause
    tickets = Delivery.objects.filter(channel="connectwise")
    assert set(tickets.values_list("event__alert__kind", flat=True)) == {"alert_storm", "backup_alarm"}
    assert tickets.count() == 1 + 3
    emails = Delivery.objects.filter(channel="email")
    assert emails.count() == 1 + 3 and emails.filter(event__alert=storm).exists()


@pytest.mark.django_db
def test_r17_1_the_storm_page_lists_its_alerts_and_each_alert_names_its_storm(cast, client):
    reconcile(cast.account_a, ("backup_alarm",), [condition(cast.org_a1, n) for n in range(12)], NOW)
    storm = Alert.objects.get(kind="alert_storm")
    client.force_login(cast.admin_a)
    page = client.get(reverse("dashboard:alert-detail", args=[storm.pk])).content.decode()
    assert "Alerts in this storm (12)" in page
    assert all(a.ref in page for a in Alert.objects.filter(storm=storm))
    member = Alert.objects.filter(storm=storm).first()
    assert f"in storm {storm.ref}" in client.get(reverse("dashboard:alert-detail", args=[member.pk])).content.decode()
    client.force_login(cast.superuser_b)  # another account's storm: absent
    assert client.get(reverse("dashboard:alert-detail", args=[storm.pk])).status_code == 404


@pytest.mark.django_db
def test_r17_1_storm_control_off_sends_each_alert_on_its_own(cast):
    AlertSettings.objects.filter(account=cast.account_a).update(storm_threshold=0)
    reconcile(cast.account_a, ("backup_alarm",), [condition(cast.org_a1, n) for n in range(30)], NOW)
    assert not Alert.objects.filter(kind="alert_storm").exists()
    assert Delivery.objects.filter(channel="email").count() == 30


@pytest.mark.django_db
def test_r17_settings_api_and_page_validate_the_limits_and_name_the_field(cast, client):
    api = api_client(cast.superuser_a)
    before = api.get("/api/v1/settings/alerts/").json()
    assert (before["storm_threshold"], before["incident_organizations"], before["flapping_raises"]) == (10, 5, 3)
    for field, bad in (("storm_threshold", -1), ("storm_threshold", "many"), ("incident_organizations", 1),
                       ("flapping_raises", 0)):
        response = api.patch("/api/v1/settings/alerts/", {field: bad}, format="json")
        assert response.status_code == 400, (field, bad)
        assert field in response.json()["errors"]
    assert api.get("/api/v1/settings/alerts/").json() == before  # nothing changed
    ok = api.patch("/api/v1/settings/alerts/", {"storm_threshold": 25, "incident_organizations": 3,
                                                "flapping_raises": 5}, format="json")
    assert ok.status_code == 200 and ok.json()["storm_threshold"] == 25

    client.force_login(cast.superuser_a)
    page = client.post("/settings/alerts/", {"realert_hours": "24", "storm_threshold": "-3",
                                             "incident_organizations": "5", "flapping_raises": "3"})
    assert page.status_code == 400
    assert re.search(r'data-testid="error-storm_threshold"', page.content.decode())
    assert AlertSettings.objects.get(account=cast.account_a).storm_threshold == 25
    monitor = api_client(cast.monitor_a).patch("/api/v1/settings/alerts/", {"storm_threshold": 2}, format="json")
    assert monitor.status_code == 403

