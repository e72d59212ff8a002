"""R1 as a matrix over every endpoint and every page, generated from the OpenAPI schema and the URL conf.

For each API operation and dashboard page, for each role of account A (superuser, admin, monitor,
organization-limited admin), an object of account B answers exactly as an id that does not exist
(404; or 403 when the role may not use the operation at all, which tells nothing about B), B's
object stays as it was, and nothing of B shows in any answer. Writes a role may not make answer 403.

A path in the schema or the URL conf without an entry in API_RULES / PAGE_RULES below FAILS:
a new endpoint must say how it is scoped.
"""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.urls import URLResolver, get_resolver, resolve
from drf_spectacular.generators import SchemaGenerator

from alerts.evaluation import evaluate
from alerts.models import Alert
from observability import tasklog
from tenancy import scoping
from tests.conftest import NOW, api_client, make_appliance, make_asset

MARK = "zz-b-only"
ROLES = ["superuser_a", "admin_a", "monitor_a", "scoped_admin_a"]
MISSING_ID = 2_000_000_000
UNSAFE = {"post", "put", "patch", "delete"}
HERE = "tests/test_tenancy_matrix.py"


@dataclass
class Target:
    """An object of account B, and the URL values that reach it."""

    obj: object
    params: dict


# --- Account B's objects, one factory each ---------------------------------------------------------
def once(factory):
    """Each of B's objects is made once per cast, however many rules ask for it."""
    def make(c):
        made = c.__dict__.setdefault("_matrix_made", {})
        if factory.__name__ not in made:
            made[factory.__name__] = factory(c)
        return made[factory.__name__]
    make.__name__ = factory.__name__
    return make


@once
def _b_appliance(c):
    return make_appliance(c.account_b, c.org_b1, f"{MARK}-ua", last_contact_at=NOW - timedelta(hours=1))


@once
def _b_asset(c):
    return make_asset(_b_appliance(c), f"{MARK}-vm")


@once
def _b_alert(c):
    _b_appliance(c)
    evaluate(c.account_b, NOW)
    return Alert.objects.filter(account=c.account_b).order_by("id").first()


@once
def _b_backup(c):
    from inventory.models import Backup

    asset = _b_asset(c)
    return Backup.objects.create(account=c.account_b, asset=asset, external_id=f"{MARK}-b1", status="success",
                                 started_at=NOW - timedelta(hours=3), finished_at=NOW - timedelta(hours=2))


@once
def _b_job(c):
    from inventory.models import Job

    asset = _b_asset(c)
    return Job.objects.create(account=c.account_b, appliance=asset.appliance, asset=asset, external_id=f"{MARK}-j",
                              state="running")


@once
def _b_integration(c):
    from integrations.models import Integration

    return Integration.objects.create(account=c.account_b, kind="datto", name=f"{MARK}-int",
                                      base_url="http://127.0.0.1:9/", credentials={"public_key": "p", "secret_key": "s"})


@once
def _b_delivery(c):
    from notifications.models import Delivery

    _b_alert(c)
    return Delivery.objects.filter(account=c.account_b).first()


@once
def _b_threshold(c):
    from thresholds.models import CustomThreshold

    return CustomThreshold.objects.create(account=c.account_b, name=f"{MARK}-tier")


@once
def _b_source(c):
    from inventory.models import SaasSource

    return SaasSource.objects.create(account=c.account_b, kind="m365", external_id=f"{MARK}-t", name=f"{MARK}-src")


@once
def _b_datto_client(c):
    from inventory.models import DattoClient

    return DattoClient.objects.create(account=c.account_b, external_id=f"{MARK}-c", name=f"{MARK}-client")


@once
def _b_vsa_action(c):
    from notifications.models import VsaEmailAction

    return VsaEmailAction.objects.create(account=c.account_b, owner=c.superuser_b, area="backups",
                                         recipients=[f"{MARK}@b.example"])


@once
def _b_webhook(c):
    from notifications.models import WebhookEndpoint

    endpoint = WebhookEndpoint(account=c.account_b, name=f"{MARK} hook", url="https://hooks.b.example/in")
    endpoint.secret = f"{MARK}-secret-of-b"
    endpoint.save()
    return endpoint


@once
def _b_token(c):
    from tenancy.models import ApiToken

    return ApiToken.issue(c.superuser_b, name=f"{MARK}-token")[0]


@once
def _b_audit(c):
    from audit.models import AuditEntry

    return AuditEntry.objects.create(account=c.account_b, action="test", target_type="test", target_label=MARK)


@once
def _b_background_job(c):
    from tenancy.models import BackgroundJob

    return BackgroundJob.objects.create(account=c.account_b, kind="evaluation", label=f"{MARK}-job",
                                        requested_by=c.superuser_b, summary=MARK)


@once
def _b_maintenance_window(c):
    from maintenance.models import MaintenanceWindow

    return MaintenanceWindow.objects.create(account=c.account_b, name=f"{MARK}-window", starts_at=NOW,
                                            ends_at=NOW + timedelta(hours=1))


def by_pk(factory, name="id"):
    def make(c):
        obj = factory(c)
        return Target(obj, {name: obj.pk})
    return make


def _group(c):
    alert = _b_alert(c)
    return Target(alert, {"id": alert.group_key})


def _org(c, name="id"):
    return Target(c.org_b1, {name: c.org_b1.pk})


def _user(c, name="id"):
    return Target(c.superuser_b, {name: c.superuser_b.pk})


def _point(c):
    backup = _b_backup(c)
    return Target(backup, {"pk": backup.asset_id, "kind": "backup", "point_id": backup.pk})


def _threshold_org(c):
    threshold = _b_threshold(c)
    return Target(threshold, {"pk": threshold.pk, "org_id": c.org_b1.pk})


ACCOUNT_WIDE = "account-wide"  # no id: acts on the caller's own account only
PUBLIC = "public"  # no tenant data (login, health)
NOT_A_PAGE = "not-a-page"  # served elsewhere or to operators only

# Every API path of the schema. {id} paths name the factory of account B's object.
API_RULES = {
    "/api/v1/alert-groups/": ACCOUNT_WIDE,
    "/api/v1/alert-groups/{id}/dismiss/": _group,
    "/api/v1/alerts/": ACCOUNT_WIDE,
    "/api/v1/alerts/{id}/": by_pk(_b_alert),
    "/api/v1/alerts/{id}/dismiss/": by_pk(_b_alert),
    "/api/v1/alerts/dismiss/": ACCOUNT_WIDE,
    "/api/v1/appliances/": ACCOUNT_WIDE,
    "/api/v1/appliances/{id}/": by_pk(_b_appliance),
    "/api/v1/appliances/{id}/check-in/": by_pk(_b_appliance),
    "/api/v1/assets/": ACCOUNT_WIDE,
    "/api/v1/assets/{id}/": by_pk(_b_asset),
    "/api/v1/assets/{id}/recovery-points/": by_pk(_b_asset),
    "/api/v1/audit/": ACCOUNT_WIDE,
    "/api/v1/audit/{id}/": by_pk(_b_audit),
    "/api/v1/background-jobs/": ACCOUNT_WIDE,
    "/api/v1/background-jobs/{id}/": by_pk(_b_background_job),
    "/api/v1/deliveries/": ACCOUNT_WIDE,
    "/api/v1/deliveries/{id}/": by_pk(_b_delivery),
    "/api/v1/deliveries/{id}/retry/": by_pk(_b_delivery),
    "/api/v1/evaluations/": ACCOUNT_WIDE,
    "/api/v1/ingest/backups/": ACCOUNT_WIDE,
    "/api/v1/ingest/saas-status/": ACCOUNT_WIDE,
    "/api/v1/integrations/": ACCOUNT_WIDE,
    "/api/v1/integrations/{id}/": by_pk(_b_integration),
    "/api/v1/integrations/{id}/sync/": by_pk(_b_integration),
    "/api/v1/integrations/{id}/test/": by_pk(_b_integration),
    "/api/v1/jobs/": ACCOUNT_WIDE,
    "/api/v1/maintenance-windows/": ACCOUNT_WIDE,
    "/api/v1/maintenance-windows/{id}/": by_pk(_b_maintenance_window),
    "/api/v1/jobs/{id}/": by_pk(_b_job),
    "/api/v1/jobs/{id}/cancel/": by_pk(_b_job),
    "/api/v1/organizations/": ACCOUNT_WIDE,
    "/api/v1/organizations/{id}/": _org,
    "/api/v1/psa/companies/": ACCOUNT_WIDE,
    "/api/v1/psa/companies/auto-map/": ACCOUNT_WIDE,
    "/api/v1/saas-sources/": ACCOUNT_WIDE,
    "/api/v1/saas-sources/{id}/": by_pk(_b_source),
    "/api/v1/settings/alerts/": ACCOUNT_WIDE,
    "/api/v1/settings/reports/": ACCOUNT_WIDE,
    "/api/v1/settings/reports/logo/": ACCOUNT_WIDE,
    "/api/v1/reports/compliance/": ACCOUNT_WIDE,
    "/api/v1/organizations/{id}/monthly-report/": lambda c: _org(c),
    "/api/v1/thresholds/custom/": ACCOUNT_WIDE,
    "/api/v1/thresholds/custom/{id}/": by_pk(_b_threshold),
    "/api/v1/thresholds/global/": ACCOUNT_WIDE,
    "/api/v1/tokens/": ACCOUNT_WIDE,
    "/api/v1/tokens/{id}/": by_pk(_b_token),
    "/api/v1/users/": ACCOUNT_WIDE,
    "/api/v1/users/{id}/": _user,
    "/api/v1/users/{id}/resend-invite/": _user,
    "/api/v1/vsa-email-actions/": ACCOUNT_WIDE,
    "/api/v1/vsa-email-actions/{id}/": by_pk(_b_vsa_action),
    "/api/v1/webhooks/": ACCOUNT_WIDE,
    "/api/v1/webhooks/{id}/": by_pk(_b_webhook),
    "/api/v1/webhooks/{id}/test/": by_pk(_b_webhook),
}

# Every page of the URL conf outside /api/ and /admin/, as Django writes its route.
PAGE_RULES = {
    "": ACCOUNT_WIDE,
    "healthz": PUBLIC,
    "metrics": NOT_A_PAGE,
    "audit/": ACCOUNT_WIDE,
    "accounts/login/": PUBLIC,
    "accounts/logout/": PUBLIC,
    "accounts/two-factor/": PUBLIC,
    "accounts/two-factor/setup/": PUBLIC,
    "accounts/invite/<uidb64>/<token>/": PUBLIC,
    "accounts/password_change/": PUBLIC,
    "accounts/password_change/done/": PUBLIC,
    "accounts/password_reset/": PUBLIC,
    "accounts/password_reset/done/": PUBLIC,
    "accounts/reset/<uidb64>/<token>/": PUBLIC,
    "accounts/reset/done/": PUBLIC,
    "alerts/": ACCOUNT_WIDE,
    "alerts/rows/": ACCOUNT_WIDE,
    "alerts/<int:pk>/": by_pk(_b_alert, "pk"),
    "alerts/<int:pk>/dismiss/": by_pk(_b_alert, "pk"),
    "alerts/dismiss/group/": ACCOUNT_WIDE,
    "alerts/dismiss/all/": ACCOUNT_WIDE,
    "alerts/dismiss/selection/": ACCOUNT_WIDE,
    "thresholds/": ACCOUNT_WIDE,
    "alerts/bell/": ACCOUNT_WIDE,
    "settings/deliveries/retry-failed/": ACCOUNT_WIDE,
    "settings/time-zone/": ACCOUNT_WIDE,
    "maintenance/": ACCOUNT_WIDE,
    "maintenance/new/": ACCOUNT_WIDE,
    "maintenance/preview/": ACCOUNT_WIDE,
    "maintenance/<int:pk>/": by_pk(_b_maintenance_window, "pk"),
    "maintenance/<int:pk>/delete/": by_pk(_b_maintenance_window, "pk"),
    "thresholds/custom/new/": ACCOUNT_WIDE,
    "thresholds/custom/<int:pk>/": by_pk(_b_threshold, "pk"),
    "thresholds/custom/<int:pk>/delete/": by_pk(_b_threshold, "pk"),
    "thresholds/custom/<int:pk>/organizations/": by_pk(_b_threshold, "pk"),
    "thresholds/custom/<int:pk>/organizations/<int:org_id>/": _threshold_org,
    "protect/": ACCOUNT_WIDE,
    "protect/azure/": ACCOUNT_WIDE,
    "protect/azure/clients/<int:pk>/map/": by_pk(_b_datto_client, "pk"),
    "protect/sources/<int:pk>/": by_pk(_b_source, "pk"),
    "protect/sources/<int:pk>/map/": by_pk(_b_source, "pk"),
    "protect/sources/<int:pk>/remove/": by_pk(_b_source, "pk"),
    "protect/<str:kind>/": ACCOUNT_WIDE,
    "settings/alerts/": ACCOUNT_WIDE,
    "reports/": ACCOUNT_WIDE,
    "reports/settings/": ACCOUNT_WIDE,
    "reports/monthly/<int:pk>/": lambda c: _org(c, "pk"),
    "reports/monthly/<int:pk>/pdf/": lambda c: _org(c, "pk"),
    "reports/monthly/<int:pk>/csv/": lambda c: _org(c, "pk"),
    "settings/integrations/": ACCOUNT_WIDE,
    "settings/integrations/add/": ACCOUNT_WIDE,
    "settings/integrations/<int:pk>/edit/": by_pk(_b_integration, "pk"),
    "settings/integrations/<int:pk>/test/": by_pk(_b_integration, "pk"),
    "settings/integrations/<int:pk>/sync/": by_pk(_b_integration, "pk"),
    "settings/alerts/evaluate/": ACCOUNT_WIDE,
    "settings/background-jobs/<int:pk>/": by_pk(_b_background_job, "pk"),
    "settings/background-jobs/<int:pk>/status/": by_pk(_b_background_job, "pk"),
    "settings/integrations/<int:pk>/remove/": by_pk(_b_integration, "pk"),
    "settings/deliveries/": ACCOUNT_WIDE,
    "settings/psa-companies/": ACCOUNT_WIDE,
    "settings/psa-companies/auto-map/": ACCOUNT_WIDE,
    "settings/psa-companies/<int:pk>/": lambda c: _org(c, "pk"),
    "settings/psa-companies/<int:pk>/search/": lambda c: _org(c, "pk"),
    "settings/deliveries/<int:pk>/retry/": by_pk(_b_delivery, "pk"),
    "settings/vsa-email-actions/": ACCOUNT_WIDE,
    "settings/vsa-email-actions/<int:pk>/": by_pk(_b_vsa_action, "pk"),
    "settings/vsa-email-actions/<int:pk>/remove/": by_pk(_b_vsa_action, "pk"),
    "settings/webhooks/": ACCOUNT_WIDE,
    "settings/webhooks/<int:pk>/": by_pk(_b_webhook, "pk"),
    "settings/webhooks/<int:pk>/remove/": by_pk(_b_webhook, "pk"),
    "settings/webhooks/<int:pk>/test/": by_pk(_b_webhook, "pk"),
    "appliances/<int:pk>/": by_pk(_b_appliance, "pk"),
    "assets/<int:pk>/": by_pk(_b_asset, "pk"),
    "assets/<int:pk>/recovery-points/": by_pk(_b_asset, "pk"),
    "assets/<int:pk>/recovery-points/<str:kind>-<int:point_id>/": _point,
    "jobs/": ACCOUNT_WIDE,
    "jobs/<int:pk>/": by_pk(_b_job, "pk"),
    "jobs/<int:pk>/cancel/": by_pk(_b_job, "pk"),
    "organizations/": ACCOUNT_WIDE,
    "organizations/<int:pk>/": lambda c: _org(c, "pk"),
    "organizations/<int:pk>/rename/": lambda c: _org(c, "pk"),
    "organizations/<int:pk>/delete/": lambda c: _org(c, "pk"),
    "settings/users/": ACCOUNT_WIDE,
    "settings/users/<int:pk>/": lambda c: _user(c, "pk"),
    "settings/users/<int:pk>/deactivate/": lambda c: _user(c, "pk"),
    "settings/users/<int:pk>/reactivate/": lambda c: _user(c, "pk"),
    "settings/users/<int:pk>/resend/": lambda c: _user(c, "pk"),
    "settings/tokens/": ACCOUNT_WIDE,
    "settings/tokens/<int:pk>/revoke/": by_pk(_b_token, "pk"),
    "settings/two-factor/": ACCOUNT_WIDE,
    "settings/two-factor/off/": ACCOUNT_WIDE,
    "settings/two-factor/require/": ACCOUNT_WIDE,
}


# --- What the project serves ------------------------------------------------------------------------
def api_operations() -> dict[str, list[str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {path: sorted(m for m in ops if m in {"get", *UNSAFE}) for path, ops in schema["paths"].items()}


def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern)


def page_routes() -> list[str]:
    return sorted({r for r in _walk(get_resolver().url_patterns)
                   if not r.startswith(("api/", "admin/", "static/", "^static", "__debug__"))})


def fill(route: str, params: dict) -> str:
    """A Django route or an OpenAPI path with its parameters filled in."""
    url = route if route.startswith("/") else "/" + route
    for name, value in params.items():
        for form in (f"{{{name}}}", f"<int:{name}>", f"<str:{name}>", f"<slug:{name}>", f"<{name}>"):
            url = url.replace(form, str(value))
    return url


def missing_params(route: str, target: Target) -> dict:
    return {k: (MISSING_ID if isinstance(v, int) else "no-such-key") for k, v in target.params.items()}


# --- Completeness: a new endpoint must come with its rule ----------------------------------------
def test_r1_every_api_path_has_a_tenancy_rule(db):
    missing = [p for p in api_operations() if p not in API_RULES]
    assert not missing, "\n".join(f"new endpoint {p} has no tenancy rule in {HERE}" for p in missing)


def test_r1_every_dashboard_page_has_a_tenancy_rule():
    missing = [r for r in page_routes() if r not in PAGE_RULES]
    assert not missing, "\n".join(f"new endpoint /{r} has no tenancy rule in {HERE}" for r in missing)


def test_r1_every_id_path_of_the_schema_names_a_factory(db):
    for path in api_operations():
        if "{" in path:
            assert callable(API_RULES.get(path)), f"new endpoint {path} has no tenancy rule in {HERE}"


# --- Another account's object ---------------------------------------------------------------------
def _row(obj):
    return type(obj)._base_manager.filter(pk=obj.pk).values().first()


def _call(client, method, url):
    return getattr(client, method)(url, {}, format="json") if method != "get" else client.get(url)


ID_PATHS = sorted(p for p, rule in API_RULES.items() if callable(rule))


@pytest.mark.parametrize("path", ID_PATHS)
def test_r1_1_another_accounts_object_answers_like_a_missing_one_for_every_role(cast, path):
    operations = api_operations()
    assert path in operations, f"stale tenancy rule {path}: no such operation in the schema"
    target = API_RULES[path](cast)
    before = _row(target.obj)
    for role in ROLES:
        client = api_client(getattr(cast, role))
        for method in operations[path]:
            theirs = _call(client, method, fill(path, target.params))
            nothing = _call(client, method, fill(path, missing_params(path, target)))
            where = f"{method.upper()} {path} as {role}"
            assert theirs.status_code == nothing.status_code, (where, theirs.status_code, nothing.status_code)
            assert theirs.status_code in (403, 404, 405), (where, theirs.status_code)
            if role == "superuser_a":
                assert theirs.status_code in (404, 405), where
            assert MARK not in theirs.content.decode(errors="replace"), where
    assert _row(target.obj) == before, f"{path}: account B's object changed"


PAGE_ID_ROUTES = sorted(r for r, rule in PAGE_RULES.items() if callable(rule))


@pytest.mark.parametrize("route", PAGE_ID_ROUTES)
def test_r1_1_a_page_of_another_accounts_object_answers_like_a_missing_one(cast, client, route):
    assert route in page_routes(), f"stale tenancy rule /{route}: no such page"
    target = PAGE_RULES[route](cast)
    before = _row(target.obj)
    for role in ROLES:
        client.force_login(getattr(cast, role))
        for method in ("get", "post"):
            theirs = getattr(client, method)(fill(route, target.params))
            nothing = getattr(client, method)(fill(route, missing_params(route, target)))
            where = f"{method.upper()} /{route} as {role}"
            assert theirs.status_code == nothing.status_code, (where, theirs.status_code, nothing.status_code)
            assert theirs.status_code in (403, 404, 405), (where, theirs.status_code)
            if role == "superuser_a":
                assert theirs.status_code in (404, 405), where
            assert MARK not in theirs.content.decode(errors="replace"), where
    assert _row(target.obj) == before, f"/{route}: account B's object changed"


# --- Lists and pages without an id show nothing of B ------------------------------------------------
@pytest.fixture
def b_everything(cast):
    """One of each of B's objects, all carrying MARK where they have a name."""
    made = {}
    # In the tables' order, not a set's (which follows memory addresses): B's maintenance window
    # made before B's alert would keep the alert from being raised.
    for rule in dict.fromkeys([*API_RULES.values(), *PAGE_RULES.values()]):
        if callable(rule):
            made[rule] = rule(cast)
    return made


@pytest.mark.slow
def test_r1_1_no_list_and_no_page_of_account_a_shows_anything_of_account_b(cast, client, b_everything):
    # /healthz is a page too; a beat that just ran keeps it healthy however long the suite has been running.
    tasklog.beat(tasklog.BEAT_HEARTBEAT)
    operations = api_operations()
    for role in ROLES:
        api = api_client(getattr(cast, role))
        for path, methods in operations.items():
            if "{" not in path and "get" in methods:
                response = api.get(path)
                assert response.status_code in (200, 403), (path, role, response.status_code)
                assert MARK not in response.content.decode(), f"GET {path} as {role} shows account B"
        client.force_login(getattr(cast, role))
        for route in page_routes():
            if PAGE_RULES.get(route) in (ACCOUNT_WIDE, PUBLIC) and "<" not in route or route == "protect/<str:kind>/":
                url = fill(route, {"kind": "m365"})
                response = client.get(url)
                assert response.status_code < 500, (url, role, response.status_code)
                assert MARK not in response.content.decode(errors="replace"), f"GET {url} as {role} shows account B"


# --- Role-forbidden writes are 403 ------------------------------------------------------------------
def _write_action(path, method):
    match = resolve(fill(path, {"id": 1}))
    view = getattr(match.func, "cls", None) or getattr(match.func, "view_class", None)
    action = getattr(view, "write_action", scoping.MANAGE)
    return None if callable(action) else action


@pytest.mark.parametrize("role", ["admin_a", "monitor_a", "scoped_admin_a"])
def test_r1_2_r1_3_a_write_the_role_may_not_make_is_403(cast, role):
    user = getattr(cast, role)
    client = api_client(user)
    own = {"id": cast.org_a1.pk}
    checked = 0
    for path, methods in api_operations().items():
        for method in set(methods) & UNSAFE:
            action = _write_action(path, method)
            if action is None or scoping.can(user, action):
                continue
            response = _call(client, method, fill(path, own))
            assert response.status_code == 403, (method.upper(), path, role, response.status_code)
            assert "detail" in response.json()
            checked += 1
    assert checked >= 10  # the matrix really covers the writes


@pytest.mark.parametrize("role", ["admin_a", "monitor_a"])
def test_r1_3_superuser_only_reads_are_403_for_other_roles(cast, role):
    user = getattr(cast, role)
    client = api_client(user)
    for path, methods in api_operations().items():
        if "get" not in methods or "{" in path:
            continue
        view = getattr(resolve(path).func, "cls", None)
        action = getattr(view, "read_action", scoping.VIEW)
        expected = 200 if scoping.can(user, action) else 403
        assert client.get(path).status_code == expected, (path, role)
