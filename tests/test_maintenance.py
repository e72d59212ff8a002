"""R16.1–R16.3: maintenance windows — occurrences in the window's zone across DST, the API,
evaluation holding conditions back and raising what still holds at the end, the count of
what cleared inside, due times at a window's end, and the pages that say so."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from alerts.evaluation import evaluate, evaluate_due
from alerts.models import Alert
from inventory.due import next_check_of
from inventory.models import Appliance, Asset
from maintenance import occurrences
from maintenance.models import MaintenanceHold, MaintenanceWindow
from notifications.models import Delivery
from tests.conftest import NOW, api_client, make_appliance, make_asset
from tests.test_backup_alarm import set_global

pytestmark = pytest.mark.django_db

ISO_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
SUNDAY = "FREQ=WEEKLY;BYDAY=SU"
# 2026-11-01 is the Sunday New York's clocks go back (02:00 EDT -> 01:00 EST).
FIRST = datetime(2026, 10, 25, 5, 0, tzinfo=UTC)  # Sunday 25 October 01:00 EDT


def window(account, **fields):
    values = {"name": "Patch night", "timezone": "America/New_York", "starts_at": FIRST, "rrule": SUNDAY,
              "duration_minutes": 240, "scope": MaintenanceWindow.Scope.ACCOUNT}
    values.update(fields)
    members = {k: values.pop(k) for k in ("organizations", "appliances", "assets") if k in values}
    made = MaintenanceWindow.objects.create(account=account, **values)
    for name, rows in members.items():
        getattr(made, name).set(rows)
    return made


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_r16_1_a_weekly_window_stays_on_the_wall_clock_across_both_dst_changes(cast):
    patch = window(cast.account_a)
    autumn = occurrences.between(patch, utc(2026, 10, 31), utc(2026, 11, 9))
    # 01:00 EDT (05:00 UTC) to 05:00 EST (10:00 UTC): five real hours the night clocks go back.
    assert [(o.start, o.end) for o in autumn] == [
        (utc(2026, 11, 1, 5), utc(2026, 11, 1, 10)), (utc(2026, 11, 8, 6), utc(2026, 11, 8, 10))]
    spring = occurrences.between(patch, utc(2027, 3, 13), utc(2027, 3, 15))
    assert [(o.start, o.end) for o in spring] == [(utc(2027, 3, 14, 6), utc(2027, 3, 14, 9))]  # three hours
    assert occurrences.current(patch, utc(2026, 11, 1, 9, 59)) is not None
    assert occurrences.current(patch, utc(2026, 11, 1, 10)) is None  # at its end the window is over
    assert [o.start for o in occurrences.upcoming(patch, utc(2026, 11, 1, 7), 3)] == [
        utc(2026, 11, 1, 5), utc(2026, 11, 8, 6), utc(2026, 11, 15, 6)]


def test_r16_1_the_api_creates_reads_and_scopes_windows(cast):
    su = api_client(cast.superuser_a)
    created = su.post("/api/v1/maintenance-windows/", {
        "name": "Sunday patching", "scope": "organizations", "organizations": [cast.org_a1.pk],
        "timezone": "America/New_York", "starts_at": "2026-10-25T01:00:00", "rrule": SUNDAY, "duration_minutes": 240,
    }, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["starts_at"].startswith("2026-10-25T05:00:00")  # 01:00 in New York, without an offset given
    assert body["organizations"] == [cast.org_a1.pk] and body["cleared_total"] == 0
    assert len(body["next_occurrences"]) == 5

    for reader in (cast.monitor_a, cast.admin_a, cast.scoped_admin_a):
        assert api_client(reader).get(f"/api/v1/maintenance-windows/{body['id']}/").status_code == 200
    limited = api_client(cast.scoped_admin_a).get(f"/api/v1/maintenance-windows/{body['id']}/").json()
    assert limited["organizations"] == []  # R1.4: Acme is outside this admin's organizations
    refused = api_client(cast.admin_a).post("/api/v1/maintenance-windows/", {"name": "x"}, format="json")
    assert refused.status_code == 403
    assert api_client(cast.admin_a).delete(f"/api/v1/maintenance-windows/{body['id']}/").status_code == 403
    other = api_client(cast.superuser_b)
    assert other.get(f"/api/v1/maintenance-windows/{body['id']}/").status_code == 404
    assert other.patch(f"/api/v1/maintenance-windows/{body['id']}/", {"name": "x"}, format="json").status_code == 404
    assert other.get("/api/v1/maintenance-windows/").json()["results"] == []

    changed = su.patch(f"/api/v1/maintenance-windows/{body['id']}/", {"duration_minutes": 60}, format="json")
    assert changed.status_code == 200 and changed.json()["duration_minutes"] == 60
    assert su.delete(f"/api/v1/maintenance-windows/{body['id']}/").status_code == 204
    assert not MaintenanceWindow.objects.exists()


@pytest.mark.parametrize(("change", "field"), [
    ({"rrule": "FREQ=SOMETIMES"}, "rrule"),
    ({"rrule": "FREQ=MINUTELY"}, "rrule"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"duration_minutes": None}, "duration_minutes"),
    ({"rrule": "", "duration_minutes": None, "ends_at": "2026-10-24T01:00:00"}, "ends_at"),
    ({"starts_at": "next sunday"}, "starts_at"),
    ({"scope": "organizations", "organizations": []}, "organizations"),
    ({"scope": "assets", "assets": [999999]}, "assets"),
])
def test_r16_1_bad_input_is_a_400_naming_the_field_and_writes_nothing(cast, change, field):
    data = {"name": "Sunday patching", "timezone": "America/New_York", "starts_at": "2026-10-25T01:00:00",
            "rrule": SUNDAY, "duration_minutes": 240, **change}
    answer = api_client(cast.superuser_a).post("/api/v1/maintenance-windows/", data, format="json")
    assert answer.status_code == 400, answer.json()
    assert field in answer.json()["errors"]
    assert not MaintenanceWindow.objects.exists()


def test_r16_1_another_accounts_organization_is_not_a_scope(cast):
    answer = api_client(cast.superuser_a).post("/api/v1/maintenance-windows/", {
        "name": "x", "scope": "organizations", "organizations": [cast.org_b1.pk], "timezone": "UTC",
        "starts_at": "2026-11-01T01:00:00Z", "ends_at": "2026-11-01T05:00:00Z"}, format="json")
    assert answer.status_code == 400 and "organizations" in answer.json()["errors"]


def offline(cast, name, org=None, since=timedelta(hours=1), at=NOW):
    return make_appliance(cast.account_a, org or cast.org_a1, name, last_contact_at=at - since)


def test_r16_2_inside_a_window_nothing_raises_an_open_alert_resolves_as_usual_and_what_holds_raises_at_the_end(cast):
    start, end = NOW, NOW + timedelta(hours=4)
    window(cast.account_a, scope="organizations", organizations=[cast.org_a1], rrule="", duration_minutes=None,
           starts_at=start, ends_at=end, timezone="UTC")
    before = offline(cast, "before", at=start - timedelta(minutes=5))
    evaluate(cast.account_a, start - timedelta(minutes=5))  # raised before the window
    [early] = Alert.objects.filter(state="open")
    sent_before = Delivery.objects.count()

    offline(cast, "inside", at=start + timedelta(hours=1))  # goes silent inside
    flapping = offline(cast, "flapping", at=start + timedelta(hours=1))
    offline(cast, "birch", org=cast.org_a2, at=start + timedelta(hours=1))  # not in scope
    evaluate(cast.account_a, start + timedelta(hours=1))
    assert set(Alert.objects.filter(state="open").values_list("subject", flat=True)) == {
        early.subject, f"appliance:{Appliance.objects.get(name='birch').pk}"}
    assert Delivery.objects.filter(event__alert__organization=cast.org_a1).count() == sent_before

    Appliance.objects.filter(pk__in=[before.pk, flapping.pk]).update(last_contact_at=end)  # back in contact
    evaluate(cast.account_a, start + timedelta(hours=2))
    early.refresh_from_db()
    assert early.state == "resolved"  # the alert open before the window resolved as usual

    evaluate(cast.account_a, end - timedelta(minutes=1))
    assert not Alert.objects.filter(state="open", organization=cast.org_a1).exists()
    evaluate(cast.account_a, end)
    raised = Alert.objects.get(state="open", organization=cast.org_a1)
    assert raised.subject == f"appliance:{Appliance.objects.get(name='inside').pk}" and raised.raised_at == end
    assert raised.events.get().deliveries.exists()  # it fans out as a new alert
    patch = MaintenanceWindow.objects.get()
    assert patch.cleared_total == 1  # "flapping" cleared inside the window: a count, no alert
    assert not MaintenanceHold.objects.exists()


def test_r16_2_a_window_over_appliances_or_assets_covers_only_them(cast):
    set_global(cast.account_a)
    box = make_appliance(cast.account_a, cast.org_a1, "box")
    kept, other = make_asset(box, "kept"), make_asset(box, "other")
    window(cast.account_a, scope="assets", assets=[kept], rrule="", duration_minutes=None, timezone="UTC",
           starts_at=NOW - timedelta(hours=1), ends_at=NOW + timedelta(hours=1))
    evaluate(cast.account_a, NOW)
    assert list(Alert.objects.filter(kind="backup_alarm").values_list("asset_id", flat=True)) == [other.pk]


def test_r16_2_a_windows_end_makes_the_assets_it_covers_due(cast):
    now = timezone.now().replace(microsecond=0)
    set_global(cast.account_a)
    # A daily start half a day away: without the window, its next moment is hours off.
    asset = make_asset(make_appliance(cast.account_a, cast.org_a1, "box", last_contact_at=now),
                       rrule=f"FREQ=DAILY;BYHOUR={(now.hour + 12) % 24};BYMINUTE=0")
    end = now + timedelta(minutes=10)
    window(cast.account_a, scope="appliances", appliances=[asset.appliance], rrule="", duration_minutes=None,
           timezone="UTC", starts_at=now - timedelta(days=3), ends_at=end)
    evaluate(cast.account_a, now)
    assert not Alert.objects.filter(kind="backup_alarm").exists()
    asset.refresh_from_db()
    assert next_check_of(asset) == end
    Appliance.objects.filter(pk=asset.appliance_id).update(last_contact_at=end)
    evaluate_due(cast.account_a, end)
    assert Alert.objects.filter(kind="backup_alarm", state="open", asset=asset).exists()


def test_r16_3_pages_say_in_maintenance_until_and_maintenance_starts_in_words(cast):
    now = timezone.now()
    box = make_appliance(cast.account_a, cast.org_a1, "box")
    asset = make_asset(box, "db")
    window(cast.account_a, name="Now", scope="appliances", appliances=[box], rrule="", duration_minutes=None,
           timezone="UTC", starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=2))
    window(cast.account_a, name="Soon", scope="organizations", organizations=[cast.org_a2], rrule="",
           duration_minutes=None, timezone="UTC", starts_at=now + timedelta(hours=3), ends_at=now + timedelta(hours=5))
    window(cast.account_a, name="Later", rrule="", duration_minutes=None, timezone="UTC",
           starts_at=now + timedelta(days=3), ends_at=now + timedelta(days=4))
    client = Client()
    client.force_login(cast.monitor_a)

    pages = {
        "alerts": client.get("/alerts/").content.decode(),
        "appliance": client.get(f"/appliances/{box.pk}/").content.decode(),
        "asset": client.get(f"/assets/{asset.pk}/").content.decode(),
        "acme": client.get(f"/organizations/{cast.org_a1.pk}/").content.decode(),
        "birch": client.get(f"/organizations/{cast.org_a2.pk}/").content.decode(),
    }
    notes = {name: re.findall(r'data-testid="maintenance-note">(.*?)</div>', page, re.S) for name, page in pages.items()}
    assert "In maintenance until" in notes["appliance"][0] and "(Now)" in notes["appliance"][0]
    assert "In maintenance until" in notes["asset"][0]
    assert notes["acme"] == []  # a window over one of its appliances is not the organization's
    assert "Maintenance starts" in notes["birch"][0] and "(Soon)" in notes["birch"][0]
    assert "(Now)" in notes["alerts"][0] and "(Soon)" in notes["alerts"][0] and "Later" not in notes["alerts"][0]
    for texts in notes.values():
        for text in texts:
            assert not ISO_STAMP.search(text), text
            assert "today at" in text or "tomorrow at" in text


def test_r16_1_the_dashboard_lists_creates_previews_and_deletes_windows(cast):
    su = Client()
    su.force_login(cast.superuser_a)
    form = {"name": "Sunday patching", "scope": "account", "timezone": "America/New_York",
            "starts_at": "2026-10-25T01:00", "kind": "recurring", "rrule": SUNDAY, "duration_minutes": "240"}

    preview = su.post("/maintenance/preview/", form).content.decode()
    listed = re.findall(r'data-testid="preview-occurrence">(.*?)</li>', preview)
    assert len(listed) == 5 and all("01:00" in row and "05:00" in row for row in listed)
    assert not ISO_STAMP.search(preview)
    bad = su.post("/maintenance/preview/", {**form, "rrule": "FREQ=SOMETIMES"}).content.decode()
    assert "Rrule:" in bad and "preview-occurrence" not in bad

    refused = su.post("/maintenance/new/", {**form, "timezone": "Nowhere/Land"})
    assert refused.status_code == 400 and 'data-testid="error-timezone"' in refused.content.decode()
    assert not MaintenanceWindow.objects.exists()
    assert su.post("/maintenance/new/", form).status_code == 302
    saved = MaintenanceWindow.objects.get()
    assert saved.starts_at == utc(2026, 10, 25, 5) and saved.duration_minutes == 240

    page = su.get("/maintenance/").content.decode()
    [following] = re.findall(r'data-testid="next-occurrence">(.*?)</td>', page, re.S)
    assert "01:00" in following and not ISO_STAMP.search(following)
    edit = su.get(f"/maintenance/{saved.pk}/").content.decode()
    assert 'value="2026-10-25T01:00"' in edit  # the form shows the start in the window's zone

    monitor = Client()
    monitor.force_login(cast.monitor_a)
    assert monitor.get("/maintenance/").status_code == 200
    assert monitor.post(f"/maintenance/{saved.pk}/delete/").status_code == 403
    other = Client()
    other.force_login(cast.superuser_b)
    assert other.post(f"/maintenance/{saved.pk}/delete/").status_code == 404
    assert 'hx-confirm="Delete the maintenance window' in page
    answer = su.post(f"/maintenance/{saved.pk}/delete/", HTTP_HX_REQUEST="true")
    assert answer.status_code == 204 and answer["HX-Redirect"] == "/maintenance/"
    assert not MaintenanceWindow.objects.exists()


def test_r16_2_a_replay_preview_holds_back_what_a_window_covers(cast):
    from alerts.evaluation import preview

    offline(cast, "inside", at=NOW)
    window(cast.account_a, rrule="", duration_minutes=None, timezone="UTC",
           starts_at=NOW - timedelta(hours=1), ends_at=NOW + timedelta(hours=1))
    assert preview(cast.account_a, NOW).would_raise == []
    assert [i["kind"] for i in preview(cast.account_a, NOW + timedelta(hours=1)).would_raise] == ["appliance_offline"]
    assert not MaintenanceHold.objects.exists()  # a preview writes nothing
    assert Asset.objects.count() == 0
