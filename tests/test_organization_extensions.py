"""Fields other rooms add to organizations (custom threshold, effective threshold, PSA company)
are read once per page, not once per organization."""

import ast
from pathlib import Path

from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts.models import Alert
from tenancy.models import Organization
from tests.conftest import NOW, api_client, make_appliance, make_asset
from thresholds.models import CustomThreshold, GlobalThreshold, ThresholdAssignment


def queries_for_list(client):
    with CaptureQueriesContext(connection) as ctx:
        body = client.get("/api/v1/organizations/?page_size=100").json()
    return len(ctx.captured_queries), body["results"]


def test_the_organizations_page_costs_the_same_queries_for_3_or_30_organizations(cast):
    GlobalThreshold.objects.create(account=cast.account_a, backups_hours=24)
    servers = CustomThreshold.objects.create(account=cast.account_a, name="Servers", backups_hours=4)
    ThresholdAssignment.objects.create(threshold=servers, organization=cast.org_a1)
    client = api_client(cast.superuser_a)
    queries_for_list(client)  # warm the token's last-used write
    few, _ = queries_for_list(client)
    Organization.objects.bulk_create([Organization(account=cast.account_a, name=f"Customer {n}") for n in range(28)])
    many, rows = queries_for_list(client)
    assert many == few
    acme = next(r for r in rows if r["id"] == cast.org_a1.pk)
    assert acme["custom_threshold"] == servers.pk and "custom threshold 'Servers'" in acme["threshold"]["backups"]
    other = next(r for r in rows if r["name"] == "Customer 0")
    assert other["custom_threshold"] is None and other["threshold"]["source"] == "global"
    assert other["psa_company"] == ""


# --- The organization page is composed through the same hook ----------------------------------------
ROOT = Path(__file__).resolve().parent.parent


def _imported_rooms(module: str) -> set[str]:
    tree = ast.parse((ROOT / module).read_text())
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    return {name.split(".")[0] for name in names}


def test_the_organization_page_imports_no_room_above_tenancy():
    assert not _imported_rooms("tenancy/views.py") & {"alerts", "thresholds", "inventory", "integrations", "notifications"}


def test_the_appliance_page_imports_no_room_above_inventory():
    assert not _imported_rooms("inventory/appliance_views.py") & {"alerts", "thresholds", "integrations", "notifications"}


def test_each_room_adds_its_part_of_the_organization_page_in_order(cast, client):
    appliance = make_appliance(cast.account_a, cast.org_a1, "acme-ueb")
    make_asset(appliance, "acme-sql")
    client.force_login(cast.superuser_a)
    page = client.get(f"/organizations/{cast.org_a1.pk}/").content.decode()
    order = ["Settings in effect", 'data-testid="threshold"', "PSA company", "Appliances (1)", "Assets (1)",
             "SaaS sources (0)", "Recent alerts"]
    assert [page.index(part) for part in order] == sorted(page.index(part) for part in order)
    # Page-only parts add no field to the API.
    fields = api_client(cast.superuser_a).get(f"/api/v1/organizations/{cast.org_a1.pk}/").json()
    assert {"custom_threshold", "threshold", "psa_company"} <= set(fields)
    assert not {"inventory", "recent_alerts"} & set(fields)


def test_the_appliance_page_shows_its_open_alerts_from_the_alerts_room(cast, client):
    appliance = make_appliance(cast.account_a, cast.org_a1, "acme-ueb")
    Alert.objects.create(
        account=cast.account_a, organization=cast.org_a1, appliance=appliance, fingerprint="f1",
        kind="appliance_offline", subject="acme-ueb", title="acme-ueb is offline", group_key="g", group_label="g",
        raised_at=NOW,
    )
    client.force_login(cast.monitor_a)
    page = client.get(f"/appliances/{appliance.pk}/").content.decode()
    assert 'data-testid="appliance-alerts"' in page and "acme-ueb is offline" in page
    assert page.index("Open alerts") < page.index("<h2>Assets")
