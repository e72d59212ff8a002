"""The dashboard an MSP lives in: links lead to dashboard pages, the appliance page, the
upgrade alert naming its appliances, counts that agree after a dismissal, and the product's
own refusal and not-found pages (R2.2, R11.2, R12)."""

import logging
from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone

from alerts.evaluation import evaluate
from alerts.models import Alert
from tests.conftest import make_appliance, make_asset
from thresholds.models import GlobalThreshold


@pytest.fixture
def offline(cast):
    """Account A: two silent appliances in Acme and one in Birch, each with an offline alert."""
    silent = timezone.now() - timedelta(hours=2)
    boxes = [
        make_appliance(cast.account_a, cast.org_a1, "acme-ueb-01", last_contact_at=silent),
        make_appliance(cast.account_a, cast.org_a1, "acme-ueb-02", last_contact_at=silent),
        make_appliance(cast.account_a, cast.org_a2, "birch-ueb-01", last_contact_at=silent, version="9.9"),
    ]
    make_appliance(cast.account_b, cast.org_b1, "other-msp-box", last_contact_at=silent)
    evaluate(cast.account_a, timezone.now())
    evaluate(cast.account_b, timezone.now())
    return boxes


def offline_alert(appliance):
    return Alert.objects.get(kind="appliance_offline", appliance=appliance)


# --- The browsable API never answers 500 --------------------------------------------------


def test_the_browsable_api_shows_an_asset_with_its_schedule(cast, client):
    asset = make_asset(make_appliance(cast.account_a, cast.org_a1, "acme-ueb-01"))
    client.force_login(cast.superuser_a)  # who may write: the page renders the edit forms too
    response = client.get(f"/api/v1/assets/{asset.pk}/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert "FREQ=DAILY" in response.content.decode()


# --- Links lead to dashboard pages (R12) ---------------------------------------------------


def test_an_appliance_alert_links_to_the_dashboard_appliance_page_not_the_api(cast, offline):
    links = offline_alert(offline[0]).links
    assert links["appliance"].endswith(f"/appliances/{offline[0].pk}/")
    assert not any("/api/" in url for url in links.values())


def test_a_backup_alarm_links_to_the_dashboard_asset_page_not_the_api(cast):
    GlobalThreshold.objects.create(account=cast.account_a, backups_hours=24, hot_copy_hours=24)
    asset = make_asset(make_appliance(cast.account_a, cast.org_a1, "acme-ueb-01"))
    evaluate(cast.account_a, timezone.now())
    alarm = Alert.objects.get(kind="backup_alarm", asset=asset)
    assert alarm.links["asset"].endswith(f"/assets/{asset.pk}/")
    assert not any("/api/" in url for url in alarm.links.values())


def test_the_alert_page_links_only_to_dashboard_pages(cast, offline, client):
    client.force_login(cast.admin_a)
    page = client.get(f"/alerts/{offline_alert(offline[0]).pk}/").content.decode()
    assert f'href="/appliances/{offline[0].pk}/"' in page
    assert f'href="/alerts/?organization={cast.org_a1.pk}"' in page
    assert "/api/v1/" not in page


# --- The appliance page ---------------------------------------------------------------------


def test_the_appliance_page_shows_its_facts_assets_and_open_alerts(cast, offline, client):
    old = offline[2]
    asset = make_asset(old, "birch-sql-01")
    client.force_login(cast.admin_a)
    response = client.get(f"/appliances/{old.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "birch-ueb-01" in page and "Birch" in page
    assert "9.9" in page and "10.6.1" in page  # R2.2: the upgrade hint
    assert f'href="/assets/{asset.pk}/"' in page
    assert f'href="/alerts/{offline_alert(old).pk}/"' in page
    assert "TB" in page or "TiB" in page  # storage, for a person
    assert "/api/v1/" not in page


def test_another_accounts_appliance_is_404_and_a_limited_admin_sees_only_their_organizations(cast, offline, client):
    other = make_appliance(cast.account_b, cast.org_b1, "b-box")
    client.force_login(cast.admin_a)
    assert client.get(f"/appliances/{other.pk}/").status_code == 404
    client.force_login(cast.scoped_admin_a)  # limited to Birch
    assert client.get(f"/appliances/{offline[0].pk}/").status_code == 404
    assert client.get(f"/appliances/{offline[2].pk}/").status_code == 200


# --- R2.2: the upgrade alert names its appliances ------------------------------------------


def test_r2_2_the_upgrade_alert_names_each_appliance_with_a_link(cast, offline, client):
    older = make_appliance(cast.account_a, cast.org_a1, "acme-old", version="10.5.0")
    evaluate(cast.account_a, timezone.now())
    upgrade = Alert.objects.get(account=cast.account_a, kind="appliance_upgrade", state="open")
    client.force_login(cast.admin_a)
    page = client.get(f"/alerts/{upgrade.pk}/").content.decode()
    for appliance in (older, offline[2]):
        assert f'<a href="/appliances/{appliance.pk}/"' in page and appliance.name in page
    assert "10.5.0" in page and "9.9" in page
    assert "/api/v1/" not in page


# --- R11.2: every count follows an inline dismissal -----------------------------------------


def test_r11_2_an_inline_dismissal_answers_the_new_counts_and_removes_an_emptied_group(cast, offline, client):
    client.force_login(cast.admin_a)
    birch = offline_alert(offline[2])
    response = client.post(
        f"/alerts/{birch.pk}/dismiss/", {"inline": "1"},
        HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://testserver/alerts/",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="bell-count"' in body and ">3<" in body.replace(" ", "")  # two offline in Acme + the upgrade alert
    assert 'id="open-total"' in body and "3 open" in body
    assert 'hx-swap-oob="delete"' in body  # Birch's offline group is empty now


def test_r11_2_a_group_dismissal_inline_answers_the_new_counts(cast, offline, client):
    client.force_login(cast.admin_a)
    key = offline_alert(offline[0]).group_key
    response = client.post(
        "/alerts/dismiss/group/", {"group": key, "inline": "1", "reason": "maintenance"},
        HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=f"http://testserver/alerts/?organization={cast.org_a1.pk}",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "0 open" in body and 'data-testid="no-alerts"' in body  # nothing left in Acme's filter
    assert Alert.objects.filter(group_key=key, state="dismissed", dismiss_reason="maintenance").count() == 2


# --- The product's own 403, 404 and 500 pages -------------------------------------------------


def test_a_refusal_is_the_products_page_with_the_reason_and_the_navigation(cast, client):
    client.force_login(cast.monitor_a)
    response = client.get("/settings/integrations/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "Only a superuser manages integrations." in page
    assert 'href="/alerts/"' in page and "Log out" in page


def test_a_missing_page_is_the_products_page_with_the_navigation(cast, client):
    client.force_login(cast.admin_a)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Page not found" in page and 'href="/alerts/"' in page and "Log out" in page


def test_signed_out_the_missing_page_has_no_navigation(db):
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode() and "Log out" not in response.content.decode()


def test_the_api_keeps_answering_json_for_refusals_and_missing_paths(cast, client):
    client.force_login(cast.monitor_a)
    missing = client.get("/api/v1/no-such-thing/")
    assert missing.status_code == 404 and missing["Content-Type"].startswith("application/json")
    refused = client.post("/api/v1/organizations/", {"name": "X"})
    assert refused.status_code == 403 and refused["Content-Type"].startswith("application/json")


def test_the_server_error_page_is_the_products_layout():
    page = render_to_string("500.html")
    assert "uniview" in page and "went wrong" in page


def test_a_refusal_is_logged_without_a_traceback(cast, client, caplog):
    client.force_login(cast.monitor_a)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get("/settings/integrations/").status_code == 403
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert "Forbidden" in record.getMessage()
    assert record.exc_info is None


def test_an_alert_raised_with_api_links_still_links_to_dashboard_pages(cast, offline, client, settings):
    alert = offline_alert(offline[0])
    alert.links = {
        "appliance": f"{settings.PORTAL_URL}/api/v1/appliances/{offline[0].pk}/",
        "appliances": f"{settings.PORTAL_URL}/api/v1/appliances/",
    }
    alert.save(update_fields=["links"])
    client.force_login(cast.admin_a)
    page = client.get(f"/alerts/{alert.pk}/").content.decode()
    assert f'href="/appliances/{offline[0].pk}/"' in page
    assert "/api/v1/" not in page


def test_the_alert_list_carries_the_confirmation_dialog_and_no_template_comments(cast, offline, client):
    client.force_login(cast.superuser_a)
    page = client.get("/alerts/").content.decode()
    assert 'id="confirm-dialog"' in page and 'data-testid="dismiss-selection-menu"' in page
    assert "{#" not in page and "#}" not in page and "hx-prompt" not in page
