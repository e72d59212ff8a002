"""Thresholds over the API (R4, R1.3, API.md): validation, roles, tenancy, assignments."""

import pytest

from tests.conftest import api_client
from thresholds.effective import effective_threshold
from thresholds.models import CustomThreshold, GlobalThreshold, ThresholdAssignment

GLOBAL = "/api/v1/thresholds/global/"
CUSTOM = "/api/v1/thresholds/custom/"
VALID = {"backups_enabled": True, "backups_hours": 24, "hot_copy_enabled": True, "hot_copy_hours": 48, "azure_hours": 24}


def custom(account, name="Servers", organizations=(), **fields):
    threshold = CustomThreshold.objects.create(account=account, name=name, **{"backups_hours": 4, **fields})
    for org in organizations:
        ThresholdAssignment.objects.create(threshold=threshold, organization=org)
    return threshold


def test_r4_1_the_global_threshold_is_unconfigured_until_a_superuser_puts_one(cast):
    client = api_client(cast.superuser_a)
    assert client.get(GLOBAL).json()["configured"] is False
    response = client.put(GLOBAL, {**VALID, "backups_hours": 12}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json() == {**VALID, "backups_hours": 12, "configured": True}
    assert GlobalThreshold.objects.get(account=cast.account_a).backups_hours == 12
    assert api_client(cast.monitor_a).get(GLOBAL).json()["backups_hours"] == 12


BAD_HOURS = [
    (field, value)
    for field in ("backups_hours", "hot_copy_hours", "azure_hours")
    for value in (0, -1, 8761, "abc", 4.5, None, "missing")
    if (field, value) != ("azure_hours", "missing")  # azure_hours defaults to 24 when left out
]


@pytest.mark.parametrize(("field", "value"), BAD_HOURS)
def test_r4_5_hours_outside_1_to_8760_are_refused_naming_the_field(cast, field, value):
    GlobalThreshold.objects.create(account=cast.account_a, backups_hours=24)
    body = dict(VALID)
    if value == "missing":
        del body[field]
    else:
        body[field] = value
    response = api_client(cast.superuser_a).put(GLOBAL, body, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert "1 to 8760" in response.json()["errors"][field][0]
    assert GlobalThreshold.objects.get(account=cast.account_a).backups_hours == 24


@pytest.mark.parametrize("value", [0, -1, 8761, "abc"])
def test_r4_5_a_custom_threshold_with_bad_hours_is_refused_and_nothing_is_created(cast, value):
    response = api_client(cast.superuser_a).post(CUSTOM, {**VALID, "name": "Servers", "backups_hours": value}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["backups_hours"]
    assert not CustomThreshold.objects.exists()


def test_r4_5_hours_at_the_bounds_are_accepted(cast):
    client = api_client(cast.superuser_a)
    assert client.put(GLOBAL, {**VALID, "backups_hours": 1, "hot_copy_hours": 8760}, format="json").status_code == 200


@pytest.mark.parametrize("role", ["admin_a", "monitor_a"])
def test_r1_3_an_admin_or_monitor_writing_a_threshold_gets_403_and_nothing_changes(cast, role):
    threshold = custom(cast.account_a, organizations=[cast.org_a1])
    GlobalThreshold.objects.create(account=cast.account_a, backups_hours=24)
    client = api_client(getattr(cast, role))
    assert client.put(GLOBAL, {**VALID, "backups_hours": 2}, format="json").status_code == 403
    assert client.post(CUSTOM, {**VALID, "name": "New"}, format="json").status_code == 403
    assert client.patch(f"{CUSTOM}{threshold.pk}/", {"backups_hours": 2}, format="json").status_code == 403
    assert client.delete(f"{CUSTOM}{threshold.pk}/").status_code == 403
    assert client.patch(f"/api/v1/organizations/{cast.org_a2.pk}/", {"custom_threshold": threshold.pk}, format="json").status_code == 403
    assert GlobalThreshold.objects.get().backups_hours == 24
    assert list(CustomThreshold.objects.values_list("name", "backups_hours")) == [("Servers", 4)]
    assert list(ThresholdAssignment.objects.values_list("organization_id", flat=True)) == [cast.org_a1.pk]
    assert client.get(f"{CUSTOM}{threshold.pk}/").status_code == 200  # everyone reads


def test_r4_2_a_superuser_creates_a_custom_threshold_with_organizations(cast):
    response = api_client(cast.superuser_a).post(
        CUSTOM, {**VALID, "name": "Servers", "backups_hours": 4, "organizations": [cast.org_a1.pk]}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["name"], body["backups_hours"], body["organizations"]) == ("Servers", 4, [cast.org_a1.pk])
    assert effective_threshold(cast.org_a1).backups_label == "4 h — custom threshold 'Servers'"


def test_r4_2_a_name_is_required_and_unique_in_the_account(cast):
    custom(cast.account_a)
    custom(cast.account_b, name="Tier 1")
    client = api_client(cast.superuser_a)
    assert list(client.post(CUSTOM, {**VALID, "name": "servers"}, format="json").json()["errors"]) == ["name"]
    assert list(client.post(CUSTOM, {**VALID, "name": " "}, format="json").json()["errors"]) == ["name"]
    assert client.post(CUSTOM, {**VALID, "name": "Tier 1"}, format="json").status_code == 201  # another account's name


def test_r4_2_an_organization_has_at_most_one_custom_threshold_and_moves_when_assigned_elsewhere(cast):
    first = custom(cast.account_a, organizations=[cast.org_a1])
    second = custom(cast.account_a, name="Desktops", backups_hours=72)
    response = api_client(cast.superuser_a).patch(
        f"{CUSTOM}{second.pk}/", {"organizations": [cast.org_a1.pk, cast.org_a2.pk]}, format="json"
    )
    assert response.status_code == 200
    assert sorted(response.json()["organizations"]) == sorted([cast.org_a1.pk, cast.org_a2.pk])
    assert not ThresholdAssignment.objects.filter(threshold=first).exists()
    assert effective_threshold(cast.org_a1).name == "Desktops"


def test_r1_1_assigning_another_accounts_organization_is_a_400_naming_organizations(cast):
    response = api_client(cast.superuser_a).post(
        CUSTOM, {**VALID, "name": "Servers", "organizations": [cast.org_b1.pk]}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["organizations"]
    assert not CustomThreshold.objects.exists()


def test_r1_1_another_accounts_custom_threshold_is_404(cast):
    theirs = custom(cast.account_b, organizations=[cast.org_b1])
    client = api_client(cast.superuser_a)
    for method in ("get", "patch", "put", "delete"):
        assert getattr(client, method)(f"{CUSTOM}{theirs.pk}/", {}, format="json").status_code == 404, method
    assert client.get(CUSTOM).json()["results"] == []
    assert CustomThreshold.objects.filter(pk=theirs.pk).exists()


def test_r4_3_deleting_a_custom_threshold_returns_its_organizations_to_global(cast):
    GlobalThreshold.objects.create(account=cast.account_a, backups_hours=24)
    threshold = custom(cast.account_a, organizations=[cast.org_a1])
    assert api_client(cast.superuser_a).delete(f"{CUSTOM}{threshold.pk}/").status_code == 204
    assert effective_threshold(cast.org_a1).backups_label == "24 h — global"


def test_r4_2_an_organization_shows_and_accepts_its_custom_threshold(cast):
    threshold = custom(cast.account_a)
    client = api_client(cast.superuser_a)
    url = f"/api/v1/organizations/{cast.org_a2.pk}/"
    assert client.get(url).json()["custom_threshold"] is None
    assert client.patch(url, {"custom_threshold": threshold.pk}, format="json").json()["custom_threshold"] == threshold.pk
    assert effective_threshold(cast.org_a2).threshold_id == threshold.pk
    assert client.patch(url, {"custom_threshold": None}, format="json").json()["custom_threshold"] is None
    assert not ThresholdAssignment.objects.exists()


def test_r1_1_an_organization_cannot_take_another_accounts_custom_threshold(cast):
    theirs = custom(cast.account_b)
    response = api_client(cast.superuser_a).patch(
        f"/api/v1/organizations/{cast.org_a1.pk}/", {"custom_threshold": theirs.pk}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["custom_threshold"]
    assert not ThresholdAssignment.objects.exists()


def test_r1_4_a_limited_admin_sees_only_its_organizations_on_a_custom_threshold(cast):
    threshold = custom(cast.account_a, organizations=[cast.org_a1, cast.org_a2])
    body = api_client(cast.scoped_admin_a).get(f"{CUSTOM}{threshold.pk}/").json()
    assert body["organizations"] == [cast.org_a2.pk]


def test_r4_2_an_organization_says_which_threshold_applies_and_where_it_comes_from(cast):
    client = api_client(cast.monitor_a)
    assert client.get(f"/api/v1/organizations/{cast.org_a1.pk}/").json()["threshold"] is None
    GlobalThreshold.objects.create(account=cast.account_a, backups_hours=24, hot_copy_enabled=False)
    custom(cast.account_a, organizations=[cast.org_a1])
    assert client.get(f"/api/v1/organizations/{cast.org_a1.pk}/").json()["threshold"] == {
        "source": "custom", "backups": "4 h — custom threshold 'Servers'", "hot_copy": "48 h — custom threshold 'Servers'",
        "azure": "24 h — custom threshold 'Servers'",
    }
    assert client.get(f"/api/v1/organizations/{cast.org_a2.pk}/").json()["threshold"]["hot_copy"] == "off"
