"""Reads of many rows at once (issue 17): lists of ids and fingerprints sent as one typed array,
and beat's idle cycle reading no open alarm when every appliance reports."""

from datetime import UTC, datetime, timedelta

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts.due import gone_silent
from alerts.evaluation import evaluate_due
from alerts.models import Alert
from tests.conftest import make_appliance, make_asset
from tests.r18_helpers import make_alert
from tests.test_backup_alarm import set_global

RAISED = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
# As in tests/test_due_time.py: a daily 22:00 schedule, N = 24 h, never backed up: alarming from DUE.
DUE = datetime(2026, 11, 2, 22, 0, tzinfo=UTC)
ODD = ['a"b', "c,d", "e\\f", "{x}", "NULL", " spaced ", "", "é:1"]


def alert_of(cast, fingerprint):
    return Alert.objects.create(
        account=cast.account_a, organization=cast.org_a1, fingerprint=fingerprint, kind="backup_alarm",
        subject=fingerprint.split(":", 1)[1], title="t", state="open", raised_at=RAISED,
    )


def test_fingerprints_with_quotes_commas_braces_and_backslashes_are_matched_exactly(cast):
    for subject in [*ODD, "other"]:
        alert_of(cast, f"backup_alarm:{subject}")
    wanted = [f"backup_alarm:{subject}" for subject in ODD]
    found = Alert.objects.filter(fingerprint__any_of=wanted).values_list("fingerprint", flat=True)
    assert sorted(found) == sorted(wanted)
    assert not Alert.objects.filter(fingerprint__any_of=[]).exists()


def test_ids_of_every_size_are_matched_by_a_bigint_array(cast):
    alerts = [make_alert(cast.account_a, cast.org_a1, "t", RAISED) for _ in range(3)]
    ids = [alerts[0].pk, alerts[2].pk, 2**40]  # one beyond any smallint or integer
    with CaptureQueriesContext(connection) as ctx:
        found = sorted(Alert.objects.filter(pk__any_of=ids).values_list("pk", flat=True))
    assert found == [alerts[0].pk, alerts[2].pk]
    assert "::bigint[]" in ctx.captured_queries[-1]["sql"]


def test_r7_2_an_idle_cycle_with_every_appliance_reporting_reads_no_open_alarm(cast):
    """R7.2's check for stale checklists starts from the silent appliances: with none, beat's
    idle cycle reads no alarm's details, however many are open."""
    set_global(cast.account_a)
    at = DUE + timedelta(hours=1)
    appliance = make_appliance(cast.account_a, cast.org_a1, last_contact_at=DUE + timedelta(days=1))
    for name in ("one", "two", "three"):
        make_asset(appliance, name=name)  # never backed up: alarming
    with time_machine.travel(at, tick=False):
        evaluate_due(cast.account_a, at)
        assert Alert.objects.filter(account=cast.account_a, state="open").count() == 3
    later = at + timedelta(minutes=1)
    with time_machine.travel(later, tick=False), CaptureQueriesContext(connection) as ctx:
        run = evaluate_due(cast.account_a, later)
    assert run.pk is None and run.raised == run.resolved == 0
    assert not [q["sql"] for q in ctx.captured_queries if '"alerts_alert"."details"' in q["sql"]]


def test_r7_2_an_alarm_whose_appliance_fell_silent_is_still_found_stale(cast):
    set_global(cast.account_a)
    at = DUE + timedelta(hours=1)
    asset = make_asset(make_appliance(cast.account_a, cast.org_a1, name="silent", last_contact_at=at), name="one")
    reporting = make_appliance(cast.account_a, cast.org_a1, name="reporting", last_contact_at=DUE + timedelta(days=1))
    make_asset(reporting, name="two")
    with time_machine.travel(at, tick=False):
        evaluate_due(cast.account_a, at)
    assert Alert.objects.filter(account=cast.account_a, state="open").count() == 2
    assert gone_silent(cast.account_a, at + timedelta(minutes=45)) == {asset.pk}
