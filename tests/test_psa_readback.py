"""R19.1: ticket statuses are read back from the PSA (fake ConnectWise, Autotask, BMS and Vorex
servers on loopback); a ticket closed there dismisses its alert, a deleted one is flagged."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from alerts.evaluation import evaluate
from alerts.models import Alert, AlertEvent, AlertSettings
from fakes.psa import ConnectWiseFake, make_psa
from fakes.smtp import SmtpFake
from inventory.models import Appliance
from notifications import psa_readback
from notifications.models import Delivery, PsaReadBack, PsaTicket
from notifications.psa_tasks import read_back_all
from tests.conftest import NOW, api_client, build_cast, make_appliance
from tests.test_integrations_dashboard import browser
from tests.test_psa_tickets import deliver_all, raise_offline
from tests.workers import Worker, flush_broker, wait_for

LATER = NOW + timedelta(minutes=1)


def ticket_of(fake, alert):
    [ticket] = fake.matching(f"[{alert.ref}]")
    return ticket["id"]


def test_r19_1_beat_reads_tickets_back_every_five_minutes():
    schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["notifications.psa_tasks.read_back_all"] == 300.0


def test_r19_1_a_ticket_closed_in_the_psa_dismisses_its_alert_saying_who_closed_it(cast, psa):
    kind, fake = psa
    integration = make_psa(cast.account_a, kind, fake)
    alert = raise_offline(cast)
    deliver_all(kind)
    ticket = ticket_of(fake, alert)

    assert psa_readback.read_back(integration, LATER).startswith("read 1 tickets, 0 alerts dismissed")
    assert Alert.objects.get(pk=alert.pk).state == "open"  # still open in the PSA: nothing changes
    assert PsaTicket.objects.get(alert=alert).state == "open"

    fake.close_in_psa(ticket, by="Jane Tech")
    psa_readback.read_back(integration, LATER + timedelta(minutes=5))

    alert.refresh_from_db()
    assert alert.state == "dismissed" and alert.dismissed_by is None
    assert alert.dismiss_reason == "closed in PSA by Jane Tech"
    event = AlertEvent.objects.get(alert=alert, type="dismissed")
    assert event.actor is None and event.reason == "closed in PSA by Jane Tech"
    row = PsaTicket.objects.get(alert=alert)
    assert (row.state, row.closed_by, row.ticket) == ("closed", "Jane Tech", str(ticket))
    # Dismissal never touches a ticket (R11.4): no delivery for it, the PSA sees no change.
    assert not Delivery.objects.filter(channel=kind, event=event).exists()
    assert [c.method for c in fake.calls() if c.method in ("PATCH", "PUT")] == []


def test_r19_1_the_quiet_time_of_r11_4_follows_a_dismissal_by_the_psa(cast, connectwise_fake):
    integration = make_psa(cast.account_a, "connectwise", connectwise_fake)
    alert = raise_offline(cast)
    deliver_all("connectwise")
    connectwise_fake.close_in_psa(ticket_of(connectwise_fake, alert))
    psa_readback.read_back(integration, LATER)
    assert Alert.objects.get(pk=alert.pk).dismiss_reason == "closed in PSA by Jane Tech"

    evaluate(cast.account_a, LATER + timedelta(hours=23))  # still offline, but quiet for 24 hours
    assert not Alert.objects.filter(state="open").exists()
    evaluate(cast.account_a, LATER + timedelta(hours=25))  # the quiet time is over: raised again
    assert Alert.objects.filter(state="open").count() == 1


def test_r19_1_a_ticket_deleted_in_the_psa_is_flagged_on_the_alert_and_a_new_one_opens_next_raise(cast, psa):
    kind, fake = psa
    integration = make_psa(cast.account_a, kind, fake, close_on_resolve=True)
    alert = raise_offline(cast)
    deliver_all(kind)
    fake.delete_in_psa(ticket_of(fake, alert))

    psa_readback.read_back(integration, LATER)
    alert.refresh_from_db()
    assert alert.state == "open"  # deleting is not closing: the alert stays
    row = PsaTicket.objects.get(alert=alert)
    assert row.state == "deleted" and row.changed_at == LATER
    detail = api_client(cast.superuser_a).get(f"/api/v1/alerts/{alert.pk}/").json()
    assert [(t["state"], t["ticket"]) for t in detail["psa_tickets"]] == [("deleted", row.ticket)]
    page = browser(cast.superuser_a).get(f"/alerts/{alert.pk}/").content.decode()
    assert "deleted in the PSA" in page and "a new ticket opens the next time this is raised" in page

    calls = len(fake.calls())
    assert psa_readback.read_back(integration, LATER + timedelta(minutes=5)).startswith("read 0 tickets")
    assert len(fake.calls()) == calls  # a deleted ticket is not asked for again

    # Resolving does not try to close what is gone; the next raise opens a new ticket.
    Appliance.objects.filter(account=cast.account_a).update(last_contact_at=NOW + timedelta(minutes=5))
    evaluate(cast.account_a, NOW + timedelta(minutes=5))
    assert deliver_all(kind) == ["sent"]
    assert Delivery.objects.get(channel=kind, event__type="resolved").state == "sent"
    evaluate(cast.account_a, NOW + timedelta(hours=2))
    again = Alert.objects.get(state="open")
    assert deliver_all(kind) == ["sent"]
    assert len(fake.matching(f"[{again.ref}]")) == 1


def test_r19_1_the_dismissal_email_says_the_psa_closed_it_not_a_person(cast, connectwise_fake):
    integration = make_psa(cast.account_a, "connectwise", connectwise_fake)
    alert = raise_offline(cast)
    deliver_all("connectwise")
    deliver_all("email")
    connectwise_fake.close_in_psa(ticket_of(connectwise_fake, alert), by="Jane Tech")
    psa_readback.read_back(integration, LATER)
    server = SmtpFake().start()
    try:
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1",
                               EMAIL_PORT=server.port, EMAIL_USE_TLS=False):
            assert deliver_all("email") == ["sent"]
        [message] = server.messages
        assert message["Subject"].startswith(f"[{alert.ref}] Dismissed")
        for body in [part.get_content() for part in message.walk() if not part.is_multipart()]:
            assert "closed in PSA by Jane Tech" in body and "by —" not in body
    finally:
        server.stop()


def test_r19_1_connectwise_reads_all_open_tickets_in_one_batched_call(cast, connectwise_fake):
    integration = make_psa(cast.account_a, "connectwise", connectwise_fake)
    for n in range(3):
        make_appliance(cast.account_a, cast.org_a1, f"silent-{n}", last_contact_at=NOW - timedelta(hours=1))
    evaluate(cast.account_a, NOW)
    deliver_all("connectwise")
    before = len(connectwise_fake.calls())
    psa_readback.read_back(integration, LATER)
    reads = [c for c in connectwise_fake.calls()[before:] if c.path.endswith("/service/tickets")]
    assert len(reads) == 1 and reads[0].query["conditions"].startswith("id in (")
    assert PsaTicket.objects.filter(state="open").count() == 3


def test_r19_1_autotask_names_who_completed_the_ticket_from_its_resource(cast, autotask_fake):
    integration = make_psa(cast.account_a, "autotask", autotask_fake)
    alert = raise_offline(cast)
    deliver_all("autotask")
    autotask_fake.close_in_psa(ticket_of(autotask_fake, alert), by="Sam Field")
    psa_readback.read_back(integration, LATER)
    assert Alert.objects.get(pk=alert.pk).dismiss_reason == "closed in PSA by Sam Field"
    queried = {c.path.rsplit("/", 2)[-2] for c in autotask_fake.calls("POST") if c.path.endswith("/query")}
    assert {"Tickets", "Resources"} <= queried


def test_r19_1_a_429_pauses_the_read_back_until_its_retry_after(cast, connectwise_fake):
    integration = make_psa(cast.account_a, "connectwise", connectwise_fake)
    alert = raise_offline(cast)
    deliver_all("connectwise")
    connectwise_fake.close_in_psa(ticket_of(connectwise_fake, alert))
    connectwise_fake.quota(retry_after=120, times=1)

    assert "rate limited" in psa_readback.read_back(integration, LATER)
    run = PsaReadBack.objects.get(integration=integration)
    assert run.paused_until == LATER + timedelta(seconds=120) and "429" in run.last_error
    calls = len(connectwise_fake.calls())
    assert psa_readback.read_back(integration, LATER + timedelta(seconds=60)).startswith("paused")
    assert len(connectwise_fake.calls()) == calls  # not called while paused
    assert Alert.objects.get(pk=alert.pk).state == "open"

    psa_readback.read_back(integration, LATER + timedelta(seconds=121))
    assert Alert.objects.get(pk=alert.pk).state == "dismissed"
    assert PsaReadBack.objects.get(integration=integration).paused_until is None


def test_r19_1_only_open_alerts_tickets_of_the_integrations_own_account_are_read(cast, connectwise_fake):
    integration = make_psa(cast.account_a, "connectwise", connectwise_fake)
    alert = raise_offline(cast)
    deliver_all("connectwise")
    Alert.objects.filter(pk=alert.pk).update(state="resolved", resolved_at=NOW)
    make_psa(cast.account_b, "connectwise", connectwise_fake)
    assert psa_readback.open_tickets(integration) == {}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_r19_1_beat_read_back_in_a_real_worker_dismisses_a_ticket_closed_in_the_psa(tmp_path):
    """Must show: a ticket closed in the fake PSA dismisses the alert within one read-back cycle."""
    fake = ConnectWiseFake().start()
    worker = None
    try:
        cast = build_cast()
        AlertSettings.objects.filter(account=cast.account_a).update(emails=[])
        make_psa(cast.account_a, "connectwise", fake)
        make_appliance(cast.account_a, cast.org_a1, "silent", last_contact_at=timezone.now() - timedelta(hours=1))
        flush_broker()
        evaluate(cast.account_a, timezone.now())
        alert = Alert.objects.get(state="open")
        deliver_all("connectwise")
        fake.close_in_psa(ticket_of(fake, alert), by="Jane Tech")

        worker = Worker(tmp_path / "worker.log").start()
        read_back_all.delay()  # what beat sends every PSA_READBACK_SECONDS
        assert wait_for(lambda: Alert.objects.get(pk=alert.pk).state == "dismissed", timeout=30), (
            (tmp_path / "worker.log").read_text()
        )
        assert Alert.objects.get(pk=alert.pk).dismiss_reason == "closed in PSA by Jane Tech"
        assert AlertEvent.objects.filter(alert=alert, type="dismissed").count() == 1
    finally:
        if worker is not None:
            worker.stop()
        fake.stop()


def test_r19_1_bms_reads_one_ticket_a_call_at_most_its_limit_a_run_the_least_recently_read_first(cast, bms_fake):
    """BMS has no batch read and 1,500 calls an hour: a run reads `read_limit` tickets, and the
    next run those it did not read."""
    from integrations.bms.client import BmsClient  # noqa: PLC0415

    integration = make_psa(cast.account_a, "bms", bms_fake)
    for n in range(3):
        make_appliance(cast.account_a, cast.org_a1, f"silent-{n}", last_contact_at=NOW - timedelta(hours=1))
    evaluate(cast.account_a, NOW)
    deliver_all("bms")
    limit, BmsClient.read_limit = BmsClient.read_limit, 2
    try:
        psa_readback.read_back(integration, LATER)
        assert PsaTicket.objects.count() == 2
        psa_readback.read_back(integration, LATER + timedelta(minutes=5))
        assert PsaTicket.objects.count() == 3
        assert PsaTicket.objects.filter(checked_at=LATER + timedelta(minutes=5)).count() == 2
    finally:
        BmsClient.read_limit = limit
    reads = [c for c in bms_fake.calls("GET") if "/servicedesk/tickets/" in c.path]
    assert len(reads) == 4


def test_r19_1_a_psa_answering_garbage_or_down_changes_nothing_and_says_why(cast, connectwise_fake):
    integration = make_psa(cast.account_a, "connectwise", connectwise_fake)
    alert = raise_offline(cast)
    deliver_all("connectwise")
    connectwise_fake.close_in_psa(ticket_of(connectwise_fake, alert))
    connectwise_fake.garbage()
    assert "unexpected answer" in psa_readback.read_back(integration, LATER)
    connectwise_fake.garbage(False)
    connectwise_fake.unauthorized()
    assert "credentials refused" in psa_readback.read_back(integration, LATER)
    assert Alert.objects.get(pk=alert.pk).state == "open" and not PsaTicket.objects.exists()
    assert "credentials refused" in PsaReadBack.objects.get(integration=integration).last_error
