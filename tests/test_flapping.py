"""Flapping (R17, docs/noise-control.md) with a real worker and the ConnectWise fake: an alert raised
again more than K times in a day (default 3) is held open as flapping instead of opening and
closing a ticket each time; it resolves once its condition has stayed clear for an hour."""

from datetime import timedelta

import pytest

from alerts.evaluation import evaluate
from alerts.models import Alert, AlertSettings
from alerts.storms import FLAPPING_CLEAR
from fakes.psa import ConnectWiseFake, make_psa
from inventory.models import Appliance
from notifications.models import Delivery
from tests.conftest import NOW, api_client, build_cast, make_appliance
from tests.workers import Worker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def settled():
    return not Delivery.objects.exclude(state="sent").exists()


def at(account, moment, online):
    Appliance.objects.filter(account=account).update(
        last_contact_at=moment if online else moment - timedelta(hours=1)
    )
    evaluate(account, moment)


@pytest.mark.slow
def test_flapping_an_alert_raised_again_more_than_three_times_a_day_is_held_open_with_one_ticket(tmp_path):
    psa = ConnectWiseFake().start()
    worker = Worker(tmp_path / "worker.log").start()
    log = lambda: (tmp_path / "worker.log").read_text()[-3000:]  # noqa: E731
    try:
        cast = build_cast()
        account = cast.account_a
        AlertSettings.objects.filter(account=account).update(emails=[])
        make_psa(account, "connectwise", psa, close_on_resolve=True)
        make_appliance(account, cast.org_a1, "wobbly")
        step = timedelta(minutes=10)
        moment = NOW
        for _ in range(4):  # raised, resolved: four times, each with its ticket opened and closed
            at(account, moment, online=False)
            at(account, moment + step, online=True)
            moment += 2 * step
        assert Alert.objects.filter(state="resolved", flapping=False).count() == 4
        assert wait_for(lambda: settled() and len(psa.tickets) == 4, timeout=30), log()

        at(account, moment, online=False)  # the fifth raise of the day: the fourth again, more than three
        flapping = Alert.objects.get(state="open")
        assert flapping.flapping
        assert api_client(cast.superuser_a).get(f"/api/v1/alerts/{flapping.pk}/").json()["flapping"] is True
        for n in range(3):  # it keeps coming and going: held open, no ticket closed or opened
            at(account, moment + (2 * n + 1) * step, online=True)
            at(account, moment + (2 * n + 2) * step, online=False)
        assert list(Alert.objects.filter(state="open").values_list("pk", flat=True)) == [flapping.pk]
        assert Alert.objects.count() == 5
        quiet_from = moment + 7 * step
        at(account, quiet_from, online=True)
        at(account, quiet_from + FLAPPING_CLEAR - timedelta(minutes=1), online=True)
        flapping.refresh_from_db()
        assert flapping.state == "open" and flapping.clear_since == quiet_from  # clear, but not for long enough
        at(account, quiet_from + FLAPPING_CLEAR, online=True)
        flapping.refresh_from_db()
        assert flapping.state == "resolved"
        assert wait_for(lambda: settled() and str(psa.matching(f"[{flapping.ref}]")[0]["status"]) == "9",
                        timeout=30), log()
        assert len(psa.tickets) == 5  # one ticket for the whole flapping stretch
        assert {str(t["status"]) for t in psa.tickets.values()} == {"9"}
    finally:
        worker.stop()
        psa.stop()
