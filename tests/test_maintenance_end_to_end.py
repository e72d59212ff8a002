"""R16.2 with real processes: a Sunday 01:00–05:00 maintenance window in America/New_York on
the night the clocks go back (2026-11-01) raises nothing inside — no alert, no ticket — and at
05:00 local (10:00 UTC, five real hours after it began) raises what still holds, whose ticket a
real Celery worker opens in the PSA fake; what cleared inside is a count on the window."""

from datetime import UTC, datetime

import pytest

from alerts.evaluation import evaluate
from alerts.models import Alert
from fakes.psa import make_psa
from inventory.models import Appliance
from maintenance.models import MaintenanceWindow
from notifications.models import Delivery
from tests.conftest import build_cast, make_appliance
from tests.workers import psa_mail_worker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.mark.slow
def test_r16_2_a_sunday_window_across_the_dst_change_holds_everything_and_raises_at_five_local(tmp_path):
    with psa_mail_worker(tmp_path) as stack:
        psa, smtp, log = stack.psa, stack.smtp, stack.log
        cast = build_cast()
        make_psa(cast.account_a, "connectwise", psa, priority="3", priority_critical="1")
        MaintenanceWindow.objects.create(
            account=cast.account_a, name="Sunday patching", timezone="America/New_York",
            starts_at=utc(2026, 10, 25, 5), rrule="FREQ=WEEKLY;BYDAY=SU", duration_minutes=240,  # 01:00 EDT
        )
        # Both appliances fall silent at 01:30 EDT (05:30 UTC), half an hour into the window.
        patched = make_appliance(cast.account_a, cast.org_a1, "patched", last_contact_at=utc(2026, 11, 1, 5, 30))
        rebooted = make_appliance(cast.account_a, cast.org_a1, "rebooted", last_contact_at=utc(2026, 11, 1, 5, 30))

        # 01:10 EST (the second 01:00), 03:00 EST, 04:00 EST — four hours after the start in UTC, where a
        # window that forgot its zone would have ended — and 04:59 EST: nothing raised, nothing sent.
        for moment in (utc(2026, 11, 1, 6, 10), utc(2026, 11, 1, 8), utc(2026, 11, 1, 9, 30)):
            evaluate(cast.account_a, moment)
        Appliance.objects.filter(pk=rebooted.pk).update(last_contact_at=utc(2026, 11, 1, 9, 50))  # back inside
        evaluate(cast.account_a, utc(2026, 11, 1, 9, 59))
        assert not Alert.objects.exists() and not Delivery.objects.exists()
        assert psa.tickets == {}

        # 05:00 EST: the window is over; what still holds is raised as new and its ticket opens.
        evaluate(cast.account_a, utc(2026, 11, 1, 10))
        alert = Alert.objects.get()
        assert (alert.subject, alert.state, alert.raised_at, alert.severity) == (
            f"appliance:{patched.pk}", "open", utc(2026, 11, 1, 10), "critical")
        sent = lambda: Delivery.objects.exists() and not Delivery.objects.exclude(state="sent").exists()  # noqa: E731
        assert wait_for(lambda: sent() and len(psa.tickets) == 1, timeout=30), log()
        [ticket] = psa.tickets.values()
        assert ticket["title"].endswith(f"[{alert.ref}]") and str(ticket["priority"]) == "1"
        assert wait_for(lambda: len(smtp.messages) == 1, timeout=15), log()

        window = MaintenanceWindow.objects.get()
        assert window.cleared_total == 1  # "rebooted" cleared inside: a count, not an alert
        assert list(window.cleared_counts) == ["2026-11-01T05:00:00+00:00"]
