"""R2.1–R2.3: appliance alerts in categories, toggles on new vs old appliances, withdrawal."""

from datetime import timedelta

from alerts.categories import CATEGORIES
from alerts.evaluation import evaluate
from alerts.models import Alert, AlertSettings
from alerts.rules.appliance_reported import category_of
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


def test_r2_2_on_an_old_appliance_an_alert_that_clears_while_its_category_is_off_is_cleared_not_withdrawn(cast):
    old = make_appliance(cast.account_a, cast.org_a1, "old-box", version="10.5.0", last_contact_at=NOW - timedelta(hours=1))
    evaluate(cast.account_a, NOW)
    switch(cast.account_a, appliance=False)
    old.last_contact_at = NOW + timedelta(minutes=4)
    old.save()
    evaluate(cast.account_a, NOW + timedelta(minutes=5))
    assert Alert.objects.get(kind="appliance_offline").resolved_reason == "cleared"


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


# --- Settings > Alerts in the dashboard -------------------------------------------------

def settings_form(**overrides):
    data = {f"category_{name}": "on" for name in CATEGORIES}
    data.update({"purging_alerts": "on", "realert_hours": "24", "emails": "noc@msp-a.example"})
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_r2_1_the_settings_page_lists_one_toggle_per_category_with_its_sentence(cast, client):
    client.force_login(cast.monitor_a)
    page = client.get("/settings/alerts/").content.decode()
    for name, sentence in CATEGORIES.items():
        assert f'name="category_{name}"' in page and sentence in page
    assert "Purging eligibility alerting" in page and 'data-testid="read-only"' in page
    assert client.post("/settings/alerts/", settings_form()).status_code == 403  # R1.3


def test_r2_1_a_superuser_switching_a_category_off_withdraws_its_alerts_at_once(cast, client):
    new = make_appliance(cast.account_a, cast.org_a1, "new-box", version="10.8.2")
    report(new, "1", "security", "Possible ransomware detected")
    evaluate(cast.account_a, NOW)
    client.force_login(cast.superuser_a)
    response = client.post("/settings/alerts/", settings_form(category_security=None, emails="a@x.example\nB@x.example"))
    assert response.status_code == 302
    row = AlertSettings.for_account(cast.account_a)
    assert row.categories["security"] is False and row.categories["backup"] is True
    assert row.emails == ["a@x.example", "B@x.example"]
    assert Alert.objects.get(kind="appliance_alert").resolved_reason == "category_disabled"


def test_r13_2_bad_emails_or_hours_are_form_errors_and_nothing_changes(cast, client):
    client.force_login(cast.superuser_a)
    response = client.post("/settings/alerts/", settings_form(
        category_backup=None, emails="ops@x.example\nOPS@x.example", realert_hours="0"))
    page = response.content.decode()
    assert response.status_code == 400 and 'data-testid="error-emails"' in page and "listed twice" in page
    assert 'data-testid="error-realert_hours"' in page
    row = AlertSettings.for_account(cast.account_a)
    assert row.categories["backup"] is True and row.emails == ["noc@msp-a.example"] and row.realert_hours == 24
    response = client.post("/settings/alerts/", settings_form(emails="not-an-address"))
    assert response.status_code == 400 and AlertSettings.for_account(cast.account_a).emails == ["noc@msp-a.example"]


def test_r10_2_the_purging_toggle_is_saved_from_the_page(cast, client):
    client.force_login(cast.superuser_a)
    client.post("/settings/alerts/", settings_form(purging_alerts=None, realert_hours="48"))
    row = AlertSettings.for_account(cast.account_a)
    assert row.purging_alerts is False and row.realert_hours == 48
