"""Fields other rooms add to organizations (custom threshold, effective threshold, PSA company)
are read once per page, not once per organization."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tenancy.models import Organization
from tests.conftest import api_client
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
