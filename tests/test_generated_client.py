"""A script written against a client generated from /api/schema/ can trust every answer (issue 18).

The client is generated here, in the suite, by openapi-python-client from the live document,
then drives a plain flow against the live server with `raise_on_unexpected_status=True`: every
answer must parse into the model its status code documents, and the generator must skip nothing.
"""

import importlib
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
import requests

from tenancy.models import ApiToken, TokenScope
from tests.conftest import build_cast

pytestmark = pytest.mark.django_db(transaction=True)

PACKAGE = "uniview_client"


def generate_client(schema_url, tmp_path):
    """The document as a script's author would fetch it, turned into an importable package."""
    schema = tmp_path / "schema.json"
    schema.write_bytes(requests.get(schema_url, params={"format": "json"}, timeout=30).content)
    config = tmp_path / "config.yaml"
    # No formatter run: the suite needs only the code. The monthly report is a PDF: read as a file
    # (docs/api.md tells script authors the same).
    config.write_text("post_hooks: []\ncontent_type_overrides:\n  application/pdf: application/octet-stream\n")
    run = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(schema),
         "--output-path", str(tmp_path / PACKAGE), "--meta", "none", "--config", str(config),
         "--fail-on-warning"],
        capture_output=True, text=True, timeout=120,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    # No part of the schema skipped: the generator warns on any endpoint or schema it cannot read.
    for word in ("warning", "skipp", "unable to", "could not", "error"):
        assert word not in output.lower(), output
    sys.path.insert(0, str(tmp_path))
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
        del sys.modules[name]
    return importlib.import_module(PACKAGE)


class Typed:
    """Calls an endpoint module and insists its answer parsed into the documented model."""

    def __init__(self, package, client):
        self.package = package
        self.client = client
        self.models = importlib.import_module(f"{PACKAGE}.models")

    def __call__(self, endpoint, model, status=None, **kwargs):
        module = importlib.import_module(f"{PACKAGE}.api.v1.{endpoint}")
        response = module.sync_detailed(client=self.client, **kwargs)
        if status is not None:
            assert response.status_code == status, (endpoint, response.status_code, response.content)
        parsed = response.parsed
        if model.startswith("list["):  # an unpaginated list: each item its model
            assert isinstance(parsed, list), (endpoint, type(parsed), response.content)
            expected = getattr(self.models, model[5:-1])
            assert all(isinstance(item, expected) for item in parsed), (endpoint, parsed)
            for item in parsed:
                undocumented(item)
            return parsed
        expected = getattr(self.models, model)
        assert isinstance(parsed, expected), (endpoint, type(parsed), response.content)
        undocumented(parsed)
        for item in getattr(parsed, "results", []):
            undocumented(item)
        return parsed


def undocumented(model):
    """Every field answered is in the document: nothing lands in the catch-all."""
    assert not model.additional_properties, (type(model).__name__, model.additional_properties)


@pytest.mark.slow
def test_a_generated_client_drives_a_whole_flow_and_every_answer_parses_into_its_model(live_server, tmp_path):
    cast = build_cast()
    package = generate_client(f"{live_server.url}/api/schema/", tmp_path)
    _, token = ApiToken.issue(cast.superuser_a, TokenScope.FULL)
    client = package.AuthenticatedClient(base_url=live_server.url, token=token,
                                         raise_on_unexpected_status=True, timeout=30)
    call = Typed(package, client)
    m = call.models

    # Who am I working with: users never signed in (last_login null), tokens with the full scope.
    users = call("v1_users_list", "list[User]", 200)
    assert any(u.last_login is None for u in users)
    tokens = call("v1_tokens_list", "list[Token]", 200)
    assert {t.scope.value for t in tokens} == {"full"}

    org = call("v1_organizations_create", "Organization", 201, body=m.OrganizationRequest(name="Cedar"))
    assert org.name == "Cedar"
    long_ago = datetime.now(UTC) - timedelta(days=3)
    appliance = call("v1_appliances_create", "Appliance", 201, body=m.ApplianceRequest(
        organization=org.id, name="cedar-ueb", external_id="cedar-ueb", timezone="UTC",
        last_contact_at=long_ago))
    asset = call("v1_assets_create", "Asset", 201, body=m.AssetRequest(
        appliance=appliance.id, name="cedar-db", external_id="cedar-db", type_=m.AssetTypeEnum("windows"),
        backup_schedules=[m.ScheduleRequest(rrule="FREQ=HOURLY", dtstart=long_ago)]))
    assert [s.rrule for s in asset.backup_schedules] == ["FREQ=HOURLY"]
    call("v1_assets_retrieve", "AssetDetail", 200, id=asset.id)

    # Thresholds: the global one, then a custom one for the new organization.
    call("v1_thresholds_global_retrieve", "GlobalThreshold", 200)
    call("v1_thresholds_global_update", "GlobalThreshold", 200,
         body=m.GlobalThresholdRequest(backups_hours=24, hot_copy_hours=48))
    custom = call("v1_thresholds_custom_create", "CustomThreshold", 201, body=m.CustomThresholdRequest(
        name="Strict", backups_hours=2, hot_copy_hours=4, organizations=[org.id]))
    org = call("v1_organizations_retrieve", "OrganizationWithCounts", 200, id=org.id)
    assert org.custom_threshold == custom.id
    call("v1_organizations_list", "PaginatedOrganizationWithCountsList", 200)

    # Evaluate: waiting answers the counts (201); at another `now`, a read-only preview (200);
    # by default the job to poll (202).
    done = call("v1_evaluations_create", "EvaluationResult", 201, body=m.EvaluationRequest(), wait=True)
    assert done.raised >= 1 and isinstance(done.job, m.BackgroundJob)
    call("v1_evaluations_create", "Preview", 200,
                   body=m.EvaluationRequest(now=datetime.now(UTC) - timedelta(days=1)))
    queued = call("v1_evaluations_create", "BackgroundJob", 202, body=m.EvaluationRequest())
    call("v1_background_jobs_retrieve", "BackgroundJob", 200, id=queued.id)

    # Alerts: list, read, dismiss; dismissing twice is a typed 409.
    alerts = call("v1_alerts_list", "PaginatedAlertList", 200, organization=org.id)
    assert alerts.results, "the offline appliance and the missed backups raise alerts"
    alert = call("v1_alerts_retrieve", "AlertDetail", 200, id=alerts.results[0].id)
    call("v1_alerts_dismiss_create", "V1AlertsDismissCreateResponse200", 200, id=alert.id,
         body=m.DismissRequest(reason="known outage"))
    refused = call("v1_alerts_dismiss_create", "ErrorDetail", 409, id=alert.id, body=m.DismissRequest())
    assert "no longer open" in refused.detail

    # An integration: credentials go in, only their mask comes out.
    integration = call("v1_integrations_create", "Integration", 201, body=m.IntegrationRequest(
        kind=m.IntegrationKindEnum("datto"), name="Datto", base_url="http://127.0.0.1:9/v1",
        credentials=m.IntegrationRequestCredentials.from_dict({"public_key": "pk-1", "secret_key": "sk-secret-1"})))
    assert "sk-secret-1" not in str(integration.to_dict())
    call("v1_integrations_retrieve", "Integration", 200, id=integration.id)

    # Deliveries of the alerts just raised.
    deliveries = call("v1_deliveries_list", "PaginatedDeliveryList", 200)
    assert deliveries.results
    call("v1_deliveries_retrieve", "Delivery", 200, id=deliveries.results[0].id)

    # Errors are typed too: a field error (400) and another account's object (404).
    invalid = call("v1_organizations_create", "ValidationErrorResponse", 400, body=m.OrganizationRequest(name="Cedar"))
    assert "name" in invalid.errors.additional_properties
    missing = call("v1_organizations_retrieve", "ErrorDetail", 404, id=cast.org_b1.id)
    assert missing.detail
