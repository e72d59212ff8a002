"""R11: viewing and dismissing in the dashboard (the API shares the same functions)."""

from datetime import timedelta

import pytest

from alerts.evaluation import evaluate
from alerts.models import Alert
from tests.conftest import NOW, make_appliance


@pytest.fixture
def alerts(cast):
    for n in range(3):
        make_appliance(cast.account_a, cast.org_a1, f"acme-{n}", last_contact_at=NOW - timedelta(hours=1))
    for n in range(2):
        make_appliance(cast.account_a, cast.org_a2, f"birch-{n}", last_contact_at=NOW - timedelta(hours=1))
    make_appliance(cast.account_b, cast.org_b1, "b-0", last_contact_at=NOW - timedelta(hours=1))
    evaluate(cast.account_a, NOW)
    evaluate(cast.account_b, NOW)
    return Alert.objects.filter(account=cast.account_a)


def open_count(account):
    return Alert.objects.filter(account=account, state="open").count()


def test_r11_1_the_list_filters_by_organization_and_by_group(cast, alerts, client):
    client.force_login(cast.monitor_a)
    by_org = client.get("/alerts/", {"organization": cast.org_a2.pk}).context["groups"]
    assert [(g["organization"], g["open_count"]) for g in by_org] == [(cast.org_a2.pk, 2)]
    key = alerts.filter(organization=cast.org_a1).first().group_key
    by_group = client.get("/alerts/", {"group": key}).context["groups"]
    assert [g["open_count"] for g in by_group] == [3]


def test_r11_2_an_admin_dismisses_one_with_a_reason_kept_in_its_history(cast, alerts, client):
    client.force_login(cast.admin_a)
    alert = alerts.first()
    response = client.post(f"/alerts/{alert.pk}/dismiss/", {"reason": "appliance being replaced"})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert (alert.state, alert.dismissed_by, alert.dismiss_reason) == ("dismissed", cast.admin_a, "appliance being replaced")
    page = client.get(f"/alerts/{alert.pk}/").content.decode()
    assert "appliance being replaced" in page and "admin@a.example" in page


def test_r11_2_the_htmx_prompt_answer_is_the_reason(cast, alerts, client):
    client.force_login(cast.admin_a)
    alert = alerts.first()
    response = client.post(f"/alerts/{alert.pk}/dismiss/", {"inline": "1"}, HTTP_HX_REQUEST="true", HTTP_HX_PROMPT="flapping link")
    assert response.status_code == 200 and 'id="bell-count"' in response.content.decode()
    alert.refresh_from_db()
    assert alert.dismiss_reason == "flapping link"


def test_r11_2_an_admin_dismisses_a_group(cast, alerts, client):
    client.force_login(cast.admin_a)
    key = alerts.filter(organization=cast.org_a1).first().group_key
    client.post("/alerts/dismiss/group/", {"group": key})
    assert open_count(cast.account_a) == 2


def test_r11_2_an_admin_dismisses_all_but_never_another_accounts(cast, alerts, client):
    client.force_login(cast.admin_a)
    client.post("/alerts/dismiss/all/")
    assert open_count(cast.account_a) == 0
    assert open_count(cast.account_b) == 1


def test_r11_2_a_monitor_dismisses_nothing(cast, alerts, client):
    client.force_login(cast.monitor_a)
    assert client.post(f"/alerts/{alerts.first().pk}/dismiss/").status_code == 403
    assert client.post("/alerts/dismiss/all/").status_code == 403
    assert open_count(cast.account_a) == 5


def test_r11_3_a_superuser_dismisses_by_organization_and_group(cast, alerts, client):
    client.force_login(cast.superuser_a)
    client.post("/alerts/dismiss/selection/", {"organization": cast.org_a2.pk})
    assert open_count(cast.account_a) == 3
    key = alerts.filter(organization=cast.org_a1).first().group_key
    client.post("/alerts/dismiss/selection/", {"organization": cast.org_a1.pk, "group": key})
    assert open_count(cast.account_a) == 0


def test_r11_3_an_admin_may_not_dismiss_by_selection(cast, alerts, client):
    client.force_login(cast.admin_a)
    assert client.post("/alerts/dismiss/selection/", {"organization": cast.org_a2.pk}).status_code == 403
    assert open_count(cast.account_a) == 5


def test_r11_3_a_selection_naming_another_accounts_organization_changes_nothing(cast, alerts, client):
    client.force_login(cast.superuser_a)
    response = client.post("/alerts/dismiss/selection/", {"organization": cast.org_b1.pk}, follow=True)
    assert "Organization: choose one from the list." in response.content.decode()
    assert open_count(cast.account_b) == 1 and open_count(cast.account_a) == 5


def test_r11_4_a_dismissed_alert_leaves_the_list_and_is_not_resolved(cast, alerts, client):
    client.force_login(cast.admin_a)
    alert = alerts.first()
    client.post(f"/alerts/{alert.pk}/dismiss/")
    groups = client.get("/alerts/").context["groups"]
    assert sum(g["open_count"] for g in groups) == 4
    alert.refresh_from_db()
    assert alert.resolved_at is None and list(alert.events.values_list("type", flat=True)) == ["raised", "dismissed"]


def test_a_stranger_without_membership_is_refused(db, client, django_user_model):
    user = django_user_model.objects.create_user("lost@example.com", "lost@example.com", "pw-123456789")
    client.force_login(user)
    assert client.get("/alerts/").status_code == 403


def test_pages_need_a_login(client):
    response = client.get("/alerts/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_r11_1_a_renamed_organization_keeps_one_group_labelled_with_the_new_name(cast, alerts, client):
    from alerts.models import Alert

    older, newer = alerts.filter(organization=cast.org_a1).order_by("raised_at", "id")[:2]
    Alert.objects.filter(pk=newer.pk).update(group_label="Acme Renamed — Appliance offline", raised_at=NOW + timedelta(hours=1))
    client.force_login(cast.monitor_a)
    groups = [g for g in client.get("/alerts/").context["groups"] if g["organization"] == cast.org_a1.pk]
    assert [(g["group_label"], g["open_count"]) for g in groups] == [("Acme Renamed — Appliance offline", 3)]
