"""R2.1–R2.3: appliance alerts in categories, toggles on new vs old appliances, withdrawal."""

from datetime import timedelta

from alerts.categories import CATEGORIES
from alerts.evaluation import evaluate
from alerts.models import Alert, AlertSettings
from alerts.rules.appliance_alerts import category_of
from inventory.models import ApplianceAlert
from tests.conftest import NOW, api_client, make_appliance


def report(appliance, external_id, category, message="Something is wrong", active=True):
    return ApplianceAlert.objects.create(
        account=appliance.account, appliance=appliance, external_id=external_id, category=category,
        severity="critical", message=message, reported_at=NOW, active=active,
    )


def switch(account, **toggles):
    row = AlertSettings.for_account(account)
    row.categories = {**row.categories, **toggles}
    row.save()


def open_alerts(account, kind="appliance_alert"):
    return Alert.objects.filter(account=account, kind=kind, state="open")


def test_r2_3_the_categories_live_in_one_place_and_are_all_on_by_default(cast):
    assert list(CATEGORIES) == [
        "backup", "hot_copy", "cold_copy", "certification", "appliance", "storage", "license",
        "asset", "security", "updates",
    ]
    assert all(AlertSettings.for_account(cast.account_a).category_enabled(c) for c in CATEGORIES)
    assert category_of("Hot Copy") == "hot_copy" and category_of("no-such-thing") == "appliance"


def test_r2_1_an_appliance_alert_is_raised_in_its_category(cast):
    appliance = make_appliance(cast.account_a, cast.org_a1, "new-box", version="10.8.2")
    report(appliance, "17", "security", "Possible ransomware detected on share F$")
    report(appliance, "18", "storage", "Storage 'backup-1' is 96% full", active=False)
    evaluate(cast.account_a, NOW)
    alert = open_alerts(cast.account_a).get()
    assert (alert.category, alert.appliance_id) == ("security", appliance.pk)
    assert alert.title == "new-box: Possible ransomware detected on share F$"
    assert alert.details["severity"] == "critical"


def test_r2_1_a_category_switched_off_raises_nothing_new_on_a_new_appliance(cast):
    new = make_appliance(cast.account_a, cast.org_a1, "new-box", version="10.10.0")
    switch(cast.account_a, license=False)
    report(new, "1", "license", "Support contract expires in 10 days")
    report(new, "2", "backup", "Backup of sql-01 failed")
    evaluate(cast.account_a, NOW)
    assert list(open_alerts(cast.account_a).values_list("category", flat=True)) == ["backup"]


def test_r2_2_on_an_appliance_older_than_10_6_1_every_category_stays_on(cast):
    old = make_appliance(cast.account_a, cast.org_a1, "old-box", version="10.5.3")
    unreadable = make_appliance(cast.account_a, cast.org_a1, "odd-box", version="ten")
    switch(cast.account_a, license=False, appliance=False)
    report(old, "1", "license", "Support contract expired")
    report(unreadable, "1", "license", "Support contract expired")
    old.last_contact_at = NOW - timedelta(hours=2)
    old.save()
    evaluate(cast.account_a, NOW)
    assert open_alerts(cast.account_a).count() == 2
    assert open_alerts(cast.account_a, "appliance_offline").get().appliance_id == old.pk
    assert open_alerts(cast.account_a, "appliance_upgrade").exists()


def test_r2_1_switching_a_category_off_withdraws_its_open_alerts(cast):
    new = make_appliance(cast.account_a, cast.org_a1, "new-box", version="10.8.2")
    old = make_appliance(cast.account_a, cast.org_a2, "old-box", version="9.9")
    for box in (new, old):
        report(box, "7", "hot_copy", "Copy to Unitrends Cloud failed")
    report(new, "8", "backup", "Backup failed")
    evaluate(cast.account_a, NOW)
    assert open_alerts(cast.account_a).count() == 3

    response = api_client(cast.superuser_a).patch(
        "/api/v1/settings/alerts/", {"categories": {"hot_copy": False}}, format="json")
    assert response.status_code == 200 and response.json()["categories"]["backup"] is True
    evaluate(cast.account_a, NOW + timedelta(minutes=5))

    withdrawn = Alert.objects.get(account=cast.account_a, appliance=new, category="hot_copy")
    assert (withdrawn.state, withdrawn.resolved_reason) == ("resolved", "category_disabled")
    assert withdrawn.events.last().reason == "category_disabled"
    assert open_alerts(cast.account_a).filter(appliance=old, category="hot_copy").exists()  # R2.2
    assert open_alerts(cast.account_a).filter(appliance=new, category="backup").exists()


def test_r2_1_the_offline_alert_belongs_to_the_appliance_category_and_is_withdrawn_with_it(cast):
    make_appliance(cast.account_a, cast.org_a1, "silent-box", version="10.8.2", last_contact_at=NOW - timedelta(hours=1))
    evaluate(cast.account_a, NOW)
    assert open_alerts(cast.account_a, "appliance_offline").get().category == "appliance"
    switch(cast.account_a, appliance=False)
    evaluate(cast.account_a, NOW + timedelta(minutes=5))
    alert = Alert.objects.get(kind="appliance_offline")
    assert alert.resolved_reason == "category_disabled"


def test_r2_1_an_alert_the_appliance_stops_listing_resolves_as_cleared(cast):
    new = make_appliance(cast.account_a, cast.org_a1, "new-box", version="10.8.2")
    record = report(new, "3", "updates", "Update 10.9.0 failed")
    evaluate(cast.account_a, NOW)
    record.active = False
    record.save()
    evaluate(cast.account_a, NOW + timedelta(minutes=5))
    assert Alert.objects.get(kind="appliance_alert").resolved_reason == "cleared"


def test_r2_1_only_a_superuser_switches_categories_and_bad_input_names_the_field(cast):
    client = api_client(cast.admin_a)
    assert client.patch("/api/v1/settings/alerts/", {"categories": {"backup": False}}, format="json").status_code == 403
    response = api_client(cast.superuser_a).patch(
        "/api/v1/settings/alerts/", {"categories": {"bakup": False}}, format="json")
    assert response.status_code == 400 and "categories" in response.json()["errors"]
    assert AlertSettings.for_account(cast.account_a).category_enabled("backup")
