"""The OpenAPI document at /api/schema/ says what the API answers (issue 18; docs/api.md).

Each answer of every list and detail endpoint, on a populated account, is checked against the
schema the document gives for its status, nullability included; the document itself names each
enum once, types each field, and documents every error status with its shared shape.
"""

import json
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from alerts.evaluation import evaluate
from integrations.models import Integration
from inventory.ingest import ingest_backups
from inventory.models import Job, SaasSource
from maintenance.models import MaintenanceWindow
from notifications.models import VsaEmailAction, WebhookEndpoint
from tenancy.models import BackgroundJob
from tests.conftest import api_client, make_appliance, make_asset
from thresholds.models import CustomThreshold


@pytest.fixture
def document(client):
    return client.get("/api/schema/", {"format": "json"}).json()


def as_json_schema(node):
    """OpenAPI 3.0's `nullable` as JSON Schema's null type, so the check sees nullability."""
    if isinstance(node, list):
        return [as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: as_json_schema(value) for key, value in node.items()}
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


def checker(document, schema):
    root = as_json_schema(document)
    registry = Registry().with_resource("urn:uniview", Resource.opaque(root))
    schema = json.loads(json.dumps(as_json_schema(schema)).replace('"#/components', '"urn:uniview#/components'))
    return Draft202012Validator(schema, registry=registry)


def answer_schema(document, path, method, status):
    response = document["paths"][path][method]["responses"][str(status)]
    return response["content"]["application/json"]["schema"]


def assert_true_to_the_document(document, path, status, body, method="get"):
    errors = sorted(checker(document, answer_schema(document, path, method, status)).iter_errors(body), key=str)
    assert not errors, f"{method.upper()} {path} {status}: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5])


@pytest.fixture
def populated(cast):
    """An account with something in every list, and the nulls a real account has: an asset
    without a schedule, a job without an asset, a source without a status, a job nobody asked for."""
    now = timezone.now()
    appliance = make_appliance(cast.account_a, cast.org_a1, "ueb", last_contact_at=now - timedelta(days=2))
    make_asset(appliance, "db-1", rrule="FREQ=HOURLY")
    asset = make_asset(appliance, "db-2", rrule=None)
    Job.objects.create(account=cast.account_a, appliance=appliance, asset=asset, external_id="j-1",
                       state=Job.State.RUNNING, started_at=now)
    Job.objects.create(account=cast.account_a, appliance=appliance, external_id="j-2", state=Job.State.QUEUED)
    SaasSource.objects.create(account=cast.account_a, kind="m365", name="Tenant", external_id="t-1")
    BackgroundJob.objects.create(account=cast.account_a, kind="evaluation", label="Evaluation (scheduled)")
    custom = CustomThreshold.objects.create(account=cast.account_a, name="Servers", backups_hours=4, hot_copy_hours=8)
    custom.organizations.add(cast.org_a2)
    VsaEmailAction.objects.create(account=cast.account_a, owner=cast.superuser_a, area="backups",
                                  recipients=["noc@msp-a.example"])
    hook = WebhookEndpoint(account=cast.account_a, name="n8n", url="https://hooks.example.com/uniview")
    hook.secret = "whsec-test-only"
    hook.save()
    Integration.objects.create(account=cast.account_a, kind="datto", name="Datto", base_url="http://127.0.0.1:9/v1",
                               credentials={"public_key": "pk", "secret_key": "sk-secret"})
    patch = MaintenanceWindow.objects.create(account=cast.account_a, name="Patching", scope="organizations",
                                             timezone="America/New_York", starts_at=now - timedelta(days=7),
                                             rrule="FREQ=WEEKLY", duration_minutes=60)
    patch.organizations.add(cast.org_a2)
    started = (now - timedelta(hours=3)).replace(microsecond=0)
    result = ingest_backups(cast.account_a, [
        {"appliance": "ueb", "asset": "db-1", "external_id": "b-1", "kind": "backup", "type": "full",
         "status": "failed", "started_at": started.isoformat(), "finished_at": None, "size_bytes": 0, "error": "disk"},
    ])
    assert not result.errors, result.errors
    evaluate(cast.account_a, now)
    return cast


def test_every_list_and_detail_answer_is_true_to_the_document(populated, document):
    client = api_client(populated.superuser_a)
    first_ids, checked = {}, []
    reads = [path for path, methods in document["paths"].items() if "get" in methods and path.startswith("/api/v1/")]
    for path in [p for p in reads if "{" not in p]:
        response = client.get(path)
        assert response.status_code == 200, (path, response.content)
        body = response.json()
        assert_true_to_the_document(document, path, 200, body)
        checked.append(path)
        items = body.get("results", body) if isinstance(body, dict) else body
        if isinstance(items, list) and items and "id" in items[0]:
            first_ids[path] = items[0]["id"]
    for path in [p for p in reads if "{id}" in p]:  # a detail, or a list under one object
        listed = path.split("{id}")[0]
        if listed not in first_ids:
            continue
        response = client.get(path.replace("{id}", str(first_ids[listed])))
        assert response.status_code == 200, (path, response.content)
        if response["Content-Type"] == "application/pdf":  # a document, not JSON (the monthly report)
            assert "application/pdf" in document["paths"][path]["get"]["responses"]["200"]["content"]
            assert response.content.startswith(b"%PDF")
            checked.append(path)
            continue
        assert_true_to_the_document(document, path, 200, response.json())
        checked.append(path)
    unread = set(reads) - set(checked)
    assert not unread, f"nothing to read at {sorted(unread)}: give the fixture one"


def test_the_document_generates_without_a_single_warning_and_validates(tmp_path):
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "schema.yaml"))


def test_each_choice_set_has_one_meaningful_enum_name(document):
    names = [name for name in document["components"]["schemas"] if name.endswith("Enum")]
    assert not [n for n in names if re.search(r"[0-9a-f]{3}Enum$", n)], names  # no hashed collision names
    schemas = document["components"]["schemas"]
    assert "appliance_offline" in schemas["AlertKindEnum"]["enum"]
    assert schemas["AlertStateEnum"]["enum"] == ["open", "resolved", "dismissed"]


def test_a_token_reads_back_with_any_scope_but_is_asked_for_without_full(document):
    schemas = document["components"]["schemas"]
    assert "full" in schemas["TokenScopeEnum"]["enum"]
    assert "full" not in schemas["RequestableTokenScopeEnum"]["enum"]
    assert schemas["Token"]["properties"]["scope"]["allOf"][0]["$ref"].endswith("/TokenScopeEnum")
    assert schemas["TokenRequest"]["properties"]["scope"]["allOf"][0]["$ref"].endswith("/RequestableTokenScopeEnum")
    created = answer_schema(document, "/api/v1/tokens/", "post", 201)
    assert "secret" in schemas[created["$ref"].rsplit("/", 1)[1]]["properties"]


def test_fields_answered_null_are_declared_nullable_and_objects_are_objects(document):
    schemas = document["components"]["schemas"]
    assert schemas["User"]["properties"]["last_login"]["nullable"] is True
    threshold = schemas["Organization"]["properties"]["threshold"]
    assert threshold["nullable"] is True and threshold["allOf"][0]["$ref"].endswith("/EffectiveThreshold")
    asset = schemas["Asset"]["properties"]
    assert asset["backup_schedules"]["type"] == "array"
    assert asset["backup_schedules"]["items"]["$ref"].endswith("/Schedule")
    assert asset["backup_schedule"]["nullable"] is True


def test_credentials_are_write_only_and_read_back_masked(document):
    schemas = document["components"]["schemas"]
    assert "credentials" not in schemas["Integration"]["properties"]
    assert schemas["IntegrationRequest"]["properties"]["credentials"]["writeOnly"] is True
    assert schemas["Integration"]["properties"]["credentials_masked"]["readOnly"] is True
    assert "credentials_masked" not in schemas["IntegrationRequest"]["properties"]


def test_evaluations_document_each_answer_with_its_shape(document):
    responses = document["paths"]["/api/v1/evaluations/"]["post"]["responses"]
    assert responses["202"]["content"]["application/json"]["schema"]["$ref"].endswith("/BackgroundJob")
    assert responses["201"]["content"]["application/json"]["schema"]["$ref"].endswith("/EvaluationResult")
    answer = responses["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert {"$ref": "#/components/schemas/Preview"} in document["components"]["schemas"][answer]["oneOf"]
    assert responses["400"]["content"]["application/json"]["schema"]["$ref"].endswith("/ValidationErrorResponse")


def test_every_operation_documents_its_errors_in_the_shared_shapes(document):
    for path, methods in document["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in methods.items():
            responses = operation["responses"]
            for code in ("401", "403"):
                assert responses[code]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorDetail"), (path, method)
            if "{" in path:
                assert responses["404"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorDetail"), (path, method)
            if method in ("post", "put", "patch"):
                assert responses["400"]["content"]["application/json"]["schema"]["$ref"].endswith("/ValidationErrorResponse"), (path, method)
    assert "409" in document["paths"]["/api/v1/alerts/{id}/dismiss/"]["post"]["responses"]


def test_the_documented_error_shapes_are_the_ones_answered(populated, document):
    client = api_client(populated.superuser_a)
    bad = client.post("/api/v1/organizations/", {"name": ""}, format="json")
    assert bad.status_code == 400
    assert_true_to_the_document(document, "/api/v1/organizations/", 400, bad.json(), "post")
    other = client.get(f"/api/v1/organizations/{populated.org_b1.pk}/")
    assert other.status_code == 404
    assert_true_to_the_document(document, "/api/v1/organizations/{id}/", 404, other.json())
    refused = api_client(populated.monitor_a).post("/api/v1/organizations/", {"name": "X"}, format="json")
    assert refused.status_code == 403
    assert_true_to_the_document(document, "/api/v1/organizations/", 403, refused.json(), "post")
    anonymous = api_client(None).get("/api/v1/organizations/")
    assert anonymous.status_code in (401, 403)
    assert_true_to_the_document(document, "/api/v1/organizations/", anonymous.status_code, anonymous.json())


def test_the_answers_to_writes_and_actions_are_true_to_the_document(populated, document, mailoutbox):
    """Ingest (whole and partial), a new token with its secret, an invitation, a connection test, dismissals."""
    client = api_client(populated.superuser_a)

    def post(path, documented, body=None, status=200, **params):
        query = "?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""
        response = client.post(path + query, body, format="json")
        assert response.status_code == status, (path, response.content)
        if status != 204:
            assert_true_to_the_document(document, documented, status, response.json(), "post")
        else:
            assert "204" in document["paths"][documented]["post"]["responses"]
        return response

    started = (timezone.now() - timedelta(hours=3)).replace(microsecond=0)
    item = {"appliance": "ueb", "asset": "db-1", "external_id": "b-1", "kind": "backup", "type": "full",
            "status": "success", "started_at": started.isoformat(),
            "finished_at": (started + timedelta(minutes=40)).isoformat(), "size_bytes": 1024, "error": ""}
    post("/api/v1/ingest/backups/", "/api/v1/ingest/backups/", [item])
    post("/api/v1/ingest/backups/", "/api/v1/ingest/backups/", [item, {**item, "external_id": ""}], partial="true")
    token = post("/api/v1/tokens/", "/api/v1/tokens/", {"name": "nightly", "scope": "read"}, status=201)
    assert token.json()["secret"]
    invited = post("/api/v1/users/", "/api/v1/users/", {"email": "new@a.example", "role": "monitor",
                                                        "all_organizations": True}, status=201)
    post(f"/api/v1/users/{invited.json()['id']}/resend-invite/", "/api/v1/users/{id}/resend-invite/", status=204)
    integration = Integration.objects.get(account=populated.account_a)
    post(f"/api/v1/integrations/{integration.pk}/test/", "/api/v1/integrations/{id}/test/")
    alert = client.get("/api/v1/alerts/").json()["results"][0]
    post(f"/api/v1/alerts/{alert['id']}/dismiss/", "/api/v1/alerts/{id}/dismiss/", {"reason": "known"})
    post(f"/api/v1/alerts/{alert['id']}/dismiss/", "/api/v1/alerts/{id}/dismiss/", {}, status=409)
    post("/api/v1/alerts/dismiss/", "/api/v1/alerts/dismiss/", {"all": True})


def test_the_query_parameters_documented_are_the_ones_read(document):
    def query(path, method="get"):
        return {p["name"] for p in document["paths"][path][method].get("parameters", []) if p["in"] == "query"}

    assert query("/api/v1/assets/{id}/recovery-points/") == {"cursor", "page_size"}  # not the assets list's filters
    assert query("/api/v1/ingest/backups/", "post") == {"partial"}
    assert query("/api/v1/evaluations/", "post") == {"wait"}
    assert "search" in query("/api/v1/organizations/")
    assert query("/api/v1/organizations/{id}/", "delete") == {"confirm"}
