"""R20.1: every alert has a severity from one table; the list sorts and filters by it; tickets
carry it as the priority the account maps it to; emails and the webhook say it."""

from datetime import timedelta

import pytest
from django.apps import apps
from django.test import Client

from alerts import severity
from alerts.categories import KINDS
from alerts.conditions import Condition
from alerts.evaluation import evaluate
from alerts.models import Alert, AlertEvent
from alerts.reconciler import reconcile
from fakes.psa import make_psa
from inventory.models import ApplianceAlert
from notifications.channels.base import alert_url
from notifications.channels.email_body import bodies
from notifications.channels.webhook import severity_of
from tests.conftest import NOW, api_client, make_appliance
from tests.test_backup_alarm import DUE, make_backup, open_alarms, server, set_global
from tests.test_psa_tickets import deliver_all

pytestmark = pytest.mark.django_db


def report(appliance, external_id, category, level="warning", message="Something is wrong"):
    return ApplianceAlert.objects.create(
        account=appliance.account, appliance=appliance, external_id=external_id, category=category,
        severity=level, message=message, reported_at=NOW, active=True,
    )


def test_r20_1_one_table_names_a_severity_for_every_kind():
    for kind in [*KINDS, "vendor_incident"]:
        assert kind in severity.SEVERITY_OF_KIND, kind
        assert severity.severity(kind, {}) in severity.SEVERITIES
    assert severity.severity("vendor_incident", {}) == "critical"
    assert severity.severity("appliance_offline", {}) == "critical"
    assert severity.severity("appliance_upgrade", {}) == "info"
    assert severity.severity("purging", {}) == "info"
    assert severity.severity("appliance_alert", {"category": "security", "severity": "info"}) == "critical"
    assert severity.severity("appliance_alert", {"category": "storage", "severity": "warning"}) == "warning"
    assert severity.severity("spanning_m365", {"level": "partial", "since": "2026-10-01",
                                               "newest_status_date": "2026-11-01"}) == "warning"
    assert severity.severity("spanning_m365", {"level": "failed", "since": "2026-10-30",
                                               "newest_status_date": "2026-11-01"}) == "critical"
    assert severity.severity("spanning_m365", {"level": "failed", "since": "2026-11-01",
                                               "newest_status_date": "2026-11-01"}) == "warning"
    assert severity.severity("backup_alarm", "not a dict") == "warning"  # an odd shape: the middle


def test_r20_1_a_missed_backup_within_the_first_threshold_is_a_warning_failing_for_days_critical(cast):
    set_global(cast.account_a)
    make_backup(server(cast), DUE - timedelta(minutes=1))  # the last good backup just before the due start
    evaluate(cast.account_a, NOW)
    [alarm] = open_alarms(cast.account_a)
    assert alarm.severity == "warning"

    late = server(cast, name="old", external_id="old")
    make_backup(late, DUE - timedelta(days=3))  # nothing good for three days
    evaluate(cast.account_a, NOW)
    assert {a.asset_id: a.severity for a in open_alarms(cast.account_a)} == {
        alarm.asset_id: "warning", late.pk: "critical"}


def test_r20_1_the_raise_writes_the_severity_and_a_kept_alert_follows_its_details(cast):
    def condition(level, since):
        return Condition(kind="spanning_m365", subject="source:1", title="Spanning", organization_id=cast.org_a1.pk,
                         details={"level": level, "since": since, "newest_status_date": "2026-11-02"})

    reconcile(cast.account_a, ["spanning_m365"], [condition("failed", "2026-11-02")], NOW)
    alert = Alert.objects.get()
    assert alert.severity == "warning"
    reconcile(cast.account_a, ["spanning_m365"], [condition("failed", "2026-10-29")], NOW + timedelta(days=1))
    alert.refresh_from_db()
    assert (alert.pk, alert.severity) == (Alert.objects.get().pk, "critical")


def test_r20_1_possible_ransomware_is_critical_and_unmistakable_on_the_list(cast):
    appliance = make_appliance(cast.account_a, cast.org_a1)
    report(appliance, "1", "security", "info", "Possible ransomware detected on share F$")
    report(appliance, "2", "storage", "warning", "Storage nearly full")
    evaluate(cast.account_a, NOW)
    assert dict(Alert.objects.values_list("category", "severity")) == {"security": "critical", "storage": "warning"}

    client = Client()
    client.force_login(cast.monitor_a)
    page = client.get("/alerts/?sort=severity").content.decode()
    assert page.count('data-testid="severity"') == 2  # a badge on every group
    assert "severity-ransomware" in page and "Possible ransomware</span>" in page
    assert page.index("severity-ransomware") < page.index('data-severity="warning"')  # most severe first

    only_warnings = client.get("/alerts/?severity=warning").content.decode()
    assert "severity-ransomware" not in only_warnings and 'data-severity="warning"' in only_warnings

    security = Alert.objects.get(category="security")
    rows = client.get(f"/alerts/rows/?group={security.group_key}").content.decode()
    assert "severity-ransomware" in rows


def test_r20_1_the_api_gives_filters_and_orders_by_severity(cast):
    appliance = make_appliance(cast.account_a, cast.org_a1, last_contact_at=NOW - timedelta(hours=2))  # offline
    report(appliance, "1", "storage", "warning", "Storage nearly full")
    report(appliance, "2", "updates", "info", "An update is available")
    evaluate(cast.account_a, NOW)
    b = make_appliance(cast.account_b, cast.org_b1, "b", last_contact_at=NOW - timedelta(hours=2))
    evaluate(b.account, NOW)
    client = api_client(cast.admin_a)

    listed = client.get("/api/v1/alerts/").json()["results"]
    assert sorted(a["severity"] for a in listed) == ["critical", "info", "warning"]
    critical = client.get("/api/v1/alerts/?severity=critical").json()["results"]
    assert [a["kind"] for a in critical] == ["appliance_offline"]  # account B's offline appliance stays hidden
    both = client.get("/api/v1/alerts/?severity=critical&severity=info").json()["results"]
    assert sorted(a["severity"] for a in both) == ["critical", "info"]

    ordered = client.get("/api/v1/alerts/?ordering=severity").json()["results"]
    assert [a["severity"] for a in ordered] == ["critical", "warning", "info"]
    reverse = client.get("/api/v1/alerts/?ordering=-severity").json()["results"]
    assert [a["severity"] for a in reverse] == ["info", "warning", "critical"]
    paged = client.get("/api/v1/alerts/?ordering=severity&page_size=1").json()
    second = client.get(paged["next"]).json()
    assert [paged["results"][0]["severity"], second["results"][0]["severity"]] == ["critical", "warning"]

    groups = {g["kind"]: g["severity"] for g in client.get("/api/v1/alert-groups/").json()}
    assert groups["appliance_offline"] == "critical"

    bad = client.get("/api/v1/alerts/?severity=loud")
    assert bad.status_code == 400 and "severity" in bad.json()["errors"]
    bad = client.get("/api/v1/alerts/?ordering=loudest")
    assert bad.status_code == 400 and "ordering" in bad.json()["errors"]


@pytest.mark.parametrize("part", [0, 1], ids=["text", "html"])
def test_r20_1_an_email_says_the_severity(cast, part):
    make_appliance(cast.account_a, cast.org_a1, last_contact_at=NOW - timedelta(hours=2))
    evaluate(cast.account_a, NOW)
    alert = Alert.objects.get()
    event = alert.events.get(type=AlertEvent.Type.RAISED)
    body = bodies(alert, event, alert_url(alert))[part]
    assert "Severity" in body and "Critical" in body
    assert severity_of(alert) == "critical"  # the webhook reads the same table


def test_r20_1_a_critical_alerts_ticket_carries_the_priority_the_account_maps_it_to(cast, psa):
    kind, fake = psa
    make_psa(cast.account_a, kind, fake, priority="3", priority_critical="1", priority_warning="2")
    appliance = make_appliance(cast.account_a, cast.org_a1, last_contact_at=NOW - timedelta(hours=2))
    report(appliance, "1", "storage", "warning", "Storage nearly full")
    report(appliance, "2", "updates", "info", "An update is available")
    evaluate(cast.account_a, NOW)
    assert deliver_all(kind) == ["sent"] * 3
    by_title = {t["title"]: t for t in fake.tickets.values()}
    priorities = {}
    for alert in Alert.objects.all():
        [ticket] = [t for title, t in by_title.items() if title.endswith(f"[{alert.ref}]")]
        priorities[alert.severity] = str(ticket["priority"])
        assert f"Severity: {alert.severity.capitalize()}" in ticket["description"]
    # critical and warning as mapped; info has no mapping: the integration's default priority
    assert priorities == {"critical": "1", "warning": "2", "info": "3"}


def test_r20_1_the_migration_backfills_existing_alerts(cast):
    from importlib import import_module

    backfill = import_module("alerts.migrations.0006_alert_severity").backfill
    appliance = make_appliance(cast.account_a, cast.org_a1, last_contact_at=NOW - timedelta(hours=2))
    report(appliance, "1", "security", "info", "Possible ransomware detected")
    evaluate(cast.account_a, NOW)
    Alert.objects.update(severity="info")  # as a row written before the column existed might read
    backfill(apps, None)
    assert sorted(Alert.objects.values_list("kind", "severity")) == [
        ("appliance_alert", "critical"), ("appliance_offline", "critical")]


def test_r20_1_a_storm_is_as_severe_as_the_kind_it_groups_and_its_details_do_not_show_the_key():
    from alerts.details_text import detail_lines

    assert severity.severity("alert_storm", {"grouped_kind": "appliance_offline"}) == "critical"
    assert severity.severity("alert_storm", {"grouped_kind": "appliance_upgrade"}) == "info"
    assert severity.severity("alert_storm", {"grouped_kind": "alert_storm"}) == "warning"
    assert severity.severity("alert_storm", {}) == "warning"
    details = {"alerts_of_kind": "Appliance offline", "cause": "—", "grouped_kind": "appliance_offline"}
    assert all("appliance_offline" not in f"{label} {text}" for label, text in detail_lines(details))
