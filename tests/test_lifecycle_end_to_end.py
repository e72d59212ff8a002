"""R15.1 + R15.2 with real processes: a backup alarm with a ticket follows its appliance to
another organization (the next ticket goes to that organization's company), then that
organization is deleted — each ticket is closed once, the history stays, nothing is sent twice."""

from collections import Counter
from datetime import timedelta

import pytest

from alerts.evaluation import evaluate
from alerts.models import Alert, AlertEvent
from fakes.psa import make_psa
from notifications.models import Delivery, PsaCompanyMapping
from notifications.tasks import sweep
from tests.conftest import NOW, api_client, build_cast, make_appliance, make_asset
from tests.workers import psa_mail_worker, wait_for
from thresholds.changes import save_global

pytestmark = pytest.mark.django_db(transaction=True)


def all_sent():
    return Delivery.objects.exists() and not Delivery.objects.exclude(state="sent").exists()


@pytest.mark.slow
def test_r15_1_r15_2_a_ticketed_alarm_moves_with_its_appliance_and_closes_once_when_its_organization_goes(tmp_path):
    with psa_mail_worker(tmp_path) as stack:
        psa, smtp, log = stack.psa, stack.smtp, stack.log
        cast = build_cast()
        make_psa(cast.account_a, "connectwise", psa, close_on_resolve=True)
        PsaCompanyMapping.objects.create(account=cast.account_a, organization=cast.org_a1, company="100")
        PsaCompanyMapping.objects.create(account=cast.account_a, organization=cast.org_a2, company="200")
        save_global(cast.account_a, {"backups_hours": 24, "hot_copy_hours": 24})
        appliance = make_appliance(cast.account_a, cast.org_a1, "acme-box")
        make_asset(appliance, "acme-sql")
        su = api_client(cast.superuser_a)

        # 1. A backup alarm in Acme opens a ticket for Acme's company.
        evaluate(cast.account_a, NOW)  # commits: the worker sends the ticket and the email
        alert = Alert.objects.get(kind="backup_alarm", state="open")
        assert wait_for(all_sent, timeout=30), log()
        [ticket] = psa.tickets.values()
        assert ticket["company"] == "100" and ticket["title"].endswith(f"[{alert.ref}]")

        # 2. The appliance moves to Birch: the same alert follows, with its group and counts.
        assert su.patch(f"/api/v1/appliances/{appliance.pk}/", {"organization": cast.org_a2.pk},
                        format="json").status_code == 200
        evaluate(cast.account_a, NOW + timedelta(minutes=5))
        alert.refresh_from_db()
        assert (alert.state, alert.organization_id, alert.group_key) == ("open", cast.org_a2.pk,
                                                                        f"{cast.org_a2.pk}:backup_alarm")
        counts = {o["name"]: o["open_alerts"]["total"] for o in su.get("/api/v1/organizations/").json()["results"]}
        assert counts == {"Acme": 0, "Birch": 1}
        assert not Delivery.objects.filter(event__type="moved").exists()  # a move sends nothing

        # The next ticket is Birch's: the appliance falls silent after the move.
        type(appliance).objects.filter(pk=appliance.pk).update(last_contact_at=NOW - timedelta(hours=1))
        evaluate(cast.account_a, NOW + timedelta(minutes=10))
        offline = Alert.objects.get(kind="appliance_offline", state="open")
        assert wait_for(lambda: all_sent() and len(psa.tickets) == 2, timeout=30), log()
        assert psa.matching(f"[{offline.ref}]")[0]["company"] == "200"

        # 3. Birch is deleted: the alert resolves first, and the ticket closes after the rows are gone.
        response = su.delete(f"/api/v1/organizations/{cast.org_a2.pk}/?confirm=true")
        assert response.status_code == 204
        closed = lambda: {int(t["status"]) for t in psa.tickets.values()} == {9}  # noqa: E731
        assert wait_for(lambda: all_sent() and closed(), timeout=30), log()
        assert wait_for(lambda: len(smtp.messages) == 4, timeout=15), log()
        assert offline.pk in Alert.objects.filter(state="resolved", resolved_reason="subject_removed").values_list(
            "pk", flat=True)

        # History: the alert, its events and deliveries, and Birch's name as it was.
        alert.refresh_from_db()
        assert (alert.state, alert.resolved_reason, alert.organization_name) == ("resolved", "subject_removed", "Birch")
        assert list(alert.events.values_list("type", flat=True)) == ["raised", "moved", "resolved"]
        assert alert.events.get(type="moved").reason == "Moved from Acme to Birch"
        assert api_client(cast.superuser_a).get(f"/api/v1/alerts/{alert.pk}/").json()["organization_name"] == "Birch"

        # Nothing twice: one ticket made, one close, one email per raise and resolve, nothing left to nudge.
        assert len(psa.calls("POST")) == 2 and len(psa.calls("PATCH")) == 2
        kinds = Counter(m["Subject"].split("]")[1].split(":")[0].strip() for m in smtp.messages)
        assert kinds == {"Alert": 2, "Resolved": 2}
        per_target = Counter(Delivery.objects.values_list("event_id", "channel", "target"))
        assert set(per_target.values()) == {1}
        assert AlertEvent.objects.filter(alert=alert, type="resolved").count() == 1
        assert sweep() == 0
