"""R18.3: the daily digest — once per account and local day at its hour, to its recipients,
through the reports' outbox: at least once, never twice, a killed worker included."""

import time
from datetime import UTC, date, datetime, timedelta

import pytest

from reports import digest, outbox
from reports.models import ReportDelivery, ReportSettings
from reports.tasks import queue, sweep
from tests.conftest import build_cast
from tests.r18_helpers import make_alert, make_days
from tests.workers import Worker, wait_for

# 06:10 UTC is 07:10 in Berlin on 2026-11-02: the digest's hour (7) has come.
NOW = datetime(2026, 11, 2, 6, 10, tzinfo=UTC)
YESTERDAY = date(2026, 11, 1)


def digest_account(cast):
    account = cast.account_a
    ReportSettings.objects.create(
        account=account, time_zone="Europe/Berlin", digest_enabled=True, digest_hour=7,
        digest_recipients=["noc@msp-a.example", "boss@msp-a.example"], msp_name="Acme IT Services",
    )
    make_alert(account, cast.org_a1, "No good backup of fileserver within 24 h", NOW - timedelta(hours=3))
    make_alert(account, cast.org_a1, "Appliance acme-1 offline", NOW - timedelta(days=3), kind="appliance_offline")
    make_alert(account, cast.org_a2, "No good backup of mail within 24 h", NOW - timedelta(days=2))
    make_alert(account, cast.org_a2, "Old one", NOW - timedelta(days=5), state="resolved",
               resolved_at=NOW - timedelta(hours=5), resolved_reason="cleared")
    make_alert(account, cast.org_a2, "Older one", NOW - timedelta(days=5), state="resolved",
               resolved_at=NOW - timedelta(hours=30), resolved_reason="cleared")
    make_alert(cast.account_b, cast.org_b1, "Someone else's", NOW - timedelta(hours=1))
    make_days(account, cast.org_a1, YESTERDAY, [4] * 29 + [3])  # 75 % yesterday, 99.2 % on average
    make_days(account, cast.org_a2, YESTERDAY, [2] * 30)  # 50 %, 50 %
    return account


@pytest.mark.django_db
def test_r18_3_the_digest_says_what_is_open_raised_resolved_and_compliance_for_a_person(cast):
    account = digest_account(cast)
    assert digest.due_digests(NOW - timedelta(hours=1)) == []  # 06:10 in Berlin: not yet its hour
    [delivery_id] = digest.due_digests(NOW)
    assert digest.due_digests(NOW + timedelta(hours=3)) == []  # once per local day
    delivery = ReportDelivery.objects.get(pk=delivery_id)
    assert delivery.key == "digest:2026-11-02" and delivery.account == account
    assert delivery.recipients == ["noc@msp-a.example", "boss@msp-a.example"]
    assert delivery.subject == "Acme IT Services daily digest, 2 November 2026: 3 open alerts"
    text = delivery.text
    assert "OPEN ALERTS: 3" in text
    assert "Acme: 2 (" in text  # by severity (R20.1) where alerts have one, else by kind
    assert "Birch: 1" in text
    assert "Raised: 1" in text and "No good backup of fileserver within 24 h (Acme)" in text
    assert "Resolved: 1" in text and "Old one (Birch)" in text and "Older one" not in text
    assert "Someone else's" not in text
    assert "COMPLIANCE ON 1 NOVEMBER 2026" in text
    assert "Acme: 75 % (average 99.2 %) — below its average" in text
    assert "Birch: 50 % (average 50 %)" in text
    assert "All organizations: 62.5 %" in text
    assert "2026-11" not in text and "T0" not in text  # no ISO stamps for a person
    assert "Acme IT Services" in delivery.html and "75 %" in delivery.html


@pytest.mark.django_db
def test_r18_3_no_digest_without_recipients_or_when_off(cast):
    ReportSettings.objects.create(account=cast.account_a, digest_enabled=True, digest_hour=0, digest_recipients=[])
    ReportSettings.objects.create(account=cast.account_b, digest_enabled=False, digest_hour=0,
                                  digest_recipients=["x@b.example"])
    assert digest.due_digests(NOW) == []
    assert not ReportDelivery.objects.exists()


@pytest.mark.django_db
def test_r18_3_the_digest_reaches_the_mail_server(cast, smtp):
    digest_account(cast)
    [delivery_id] = digest.due_digests(NOW)
    assert outbox.deliver(delivery_id) == "sent"
    assert outbox.deliver(delivery_id) is None  # sent: nobody sends it again
    [message] = smtp.messages
    assert message["Subject"].startswith("Acme IT Services daily digest")
    assert {address.addr_spec for address in message["To"].addresses} == {"noc@msp-a.example", "boss@msp-a.example"}
    assert message["Message-ID"] == outbox.message_id(ReportDelivery.objects.get())


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_r18_3_the_digest_is_sent_once_with_a_worker_killed_mid_send(tmp_path, smtp):
    cast = build_cast()
    digest_account(cast)
    smtp.hold()  # the message reaches the server, which does not answer yet: the worker is mid-send
    mail = {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": smtp.port,
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend"}
    lease = 3
    first = Worker(tmp_path / "first.log", DELIVERY_LEASE_SECONDS=lease, **mail).start()
    second = None
    try:
        ids = digest.due_digests(NOW)
        queue(ids)  # autocommit: queued at once, as beat's task does when it commits
        assert wait_for(lambda: smtp.arrived == 1, timeout=30), (tmp_path / "first.log").read_text()
        first.kill()
        time.sleep(1)  # the server notices the connection is gone
        smtp.release()
        delivery = ReportDelivery.objects.get()
        assert (delivery.state, delivery.attempts) == ("pending", 1)
        assert delivery.pk not in outbox.due()  # the dead worker's lease holds
        assert digest.due_digests(NOW + timedelta(minutes=5)) == []  # beat again: no second digest
        time.sleep(0.5)
        assert smtp.messages == []  # the server never answered the dead worker: nothing delivered

        second = Worker(tmp_path / "second.log", DELIVERY_LEASE_SECONDS=lease, **mail).start()
        assert wait_for(lambda: delivery.pk in outbox.due(), timeout=lease + 2)  # the lease expired
        assert sweep() == 1
        assert wait_for(lambda: ReportDelivery.objects.get().state == "sent", timeout=30), \
            (tmp_path / "second.log").read_text()
        assert len(smtp.messages) == 1  # once
        assert ReportDelivery.objects.get().attempts == 2
        assert sweep() == 0
    finally:
        for worker in (first, second):
            if worker:
                worker.stop()
