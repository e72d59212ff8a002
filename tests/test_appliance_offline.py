"""The first rule end to end: appliance offline (no contact for 30 minutes, category `appliance`)."""

from datetime import timedelta

from alerts.evaluation import evaluate
from alerts.models import Alert
from notifications import outbox
from notifications.models import Delivery
from tests.conftest import NOW, api_client, make_appliance


def test_an_appliance_silent_for_30_minutes_raises_one_alert(cast):
    appliance = make_appliance(cast.account_a, cast.org_a1, "ueb", last_contact_at=NOW - timedelta(minutes=30, seconds=1))
    run = evaluate(cast.account_a, NOW)
    assert run.raised == 1
    alert = Alert.objects.get()
    assert (alert.kind, alert.category, alert.organization, alert.appliance) == (
        "appliance_offline", "appliance", cast.org_a1, appliance,
    )
    assert "ueb" in alert.title
    assert alert.details["last_contact_at"] == appliance.last_contact_at.isoformat()
    assert set(alert.links) == {"organization", "appliance"}


def test_an_appliance_heard_from_29_minutes_ago_is_fine(cast):
    make_appliance(cast.account_a, cast.org_a1, "ueb", last_contact_at=NOW - timedelta(minutes=29))
    assert evaluate(cast.account_a, NOW).raised == 0


def test_an_appliance_never_heard_from_is_offline(cast):
    make_appliance(cast.account_a, cast.org_a1, "ueb", last_contact_at=None)
    evaluate(cast.account_a, NOW)
    assert Alert.objects.filter(kind="appliance_offline").count() == 1


def test_it_resolves_when_the_appliance_checks_in_and_both_events_are_emailed(cast, settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path
    appliance = make_appliance(cast.account_a, cast.org_a1, "ueb", last_contact_at=NOW - timedelta(hours=1))
    evaluate(cast.account_a, NOW)
    alert = Alert.objects.get()
    assert api_client(cast.monitor_a).get("/api/v1/alerts/").json()["results"][0]["id"] == alert.pk

    appliance.last_contact_at = NOW + timedelta(minutes=4)
    appliance.save()
    assert evaluate(cast.account_a, NOW + timedelta(minutes=5)).resolved == 1
    alert.refresh_from_db()
    assert alert.state == "resolved"
    assert api_client(cast.monitor_a).get("/api/v1/alerts/").json()["results"] == []

    for delivery in Delivery.objects.order_by("pk"):
        assert outbox.deliver(delivery.pk) == "sent"
    mail = "".join(p.read_text() for p in tmp_path.iterdir())
    assert f"[{alert.ref}] Alert:" in mail and f"[{alert.ref}] Resolved:" in mail


def test_r2_1_the_appliance_category_switched_off_silences_new_appliances_only(cast):
    cast.account_a.alert_settings.categories["appliance"] = False
    cast.account_a.alert_settings.save()
    make_appliance(cast.account_a, cast.org_a1, "new", version="10.8.0", last_contact_at=NOW - timedelta(hours=1))
    old = make_appliance(cast.account_a, cast.org_a1, "old", version="10.5.3", last_contact_at=NOW - timedelta(hours=1))
    evaluate(cast.account_a, NOW)
    offline = Alert.objects.filter(kind="appliance_offline")
    assert list(offline.values_list("appliance", flat=True)) == [old.pk]  # R2.2


def test_the_dashboard_lists_it_grouped_by_organization_and_kind(cast, client):
    make_appliance(cast.account_a, cast.org_a1, "ueb-1", last_contact_at=NOW - timedelta(hours=1))
    make_appliance(cast.account_a, cast.org_a1, "ueb-2", last_contact_at=NOW - timedelta(hours=1))
    evaluate(cast.account_a, NOW)
    client.force_login(cast.monitor_a)
    page = client.get("/alerts/")
    assert page.status_code == 200
    [group] = page.context["groups"]
    assert (group["open_count"], group["organization"], group["kind"]) == (2, cast.org_a1.pk, "appliance_offline")
    rows = client.get("/alerts/rows/", {"group": group["group_key"]}).content.decode()
    assert "ueb-1" in rows and "ueb-2" in rows
