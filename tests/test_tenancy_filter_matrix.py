"""R1.1, R1.4 as a matrix over every list filter that takes an id, generated from the schema and the filtersets.

For every list endpoint of the API, every filter parameter whose value is the id of an object
(an organization, an appliance, an asset, a person…), and every role of account A:
- the id of account B's object answers exactly as an id that does not exist;
- for a limited user, the id of an account-A object outside their organizations answers exactly
  as a missing one too (R1.4: filters included);
- for a user whose limit lost all its organizations, so does every id (R1.6).

A filter on a model without a factory below FAILS: a new filter must say how to reach B's object.
Dashboard pages get the same check for every id parameter the API filters know.
"""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import resolve
from django_filters.filters import ModelChoiceFilter, ModelMultipleChoiceFilter

from alerts.evaluation import evaluate
from inventory.models import Appliance, Asset
from tenancy.accounts import add_member
from tenancy.models import Organization, Role
from tests.conftest import NOW, PASSWORD, api_client, make_appliance, make_asset
from tests.test_tenancy_matrix import (
    ACCOUNT_WIDE,
    MISSING_ID,
    PAGE_RULES,
    api_operations,
    page_routes,
)

User = get_user_model()
HERE = "tests/test_tenancy_filter_matrix.py"
ROLES = ["superuser_a", "admin_a", "monitor_a", "scoped_admin_a", "orphan_a"]
LIMITED = ["scoped_admin_a", "orphan_a"]


# --- What the project filters on ---------------------------------------------------------------------
def _model_of_path(model, field_name):
    """The model whose id `field_name` (a lookup path from `model`) holds, or None for a plain value."""
    current, reached = model, None
    for part in field_name.split("__"):
        try:
            field = current._meta.get_field(part)
        except Exception:  # a lookup such as `icontains`, or a method filter's own name
            return reached if part in ("exact", "in") else None
        if field.is_relation and field.related_model is not None:
            current = reached = field.related_model
        elif field.primary_key and reached is not None:
            return reached
        else:
            return None
    return reached


def id_filters(filterset_class):
    """(parameter, model) for each filter of `filterset_class` whose value is an object's id."""
    model = filterset_class._meta.model
    for name, flt in filterset_class.base_filters.items():
        if isinstance(flt, ModelChoiceFilter | ModelMultipleChoiceFilter) and not callable(flt.queryset):
            yield name, flt.queryset.model
            continue
        related = _model_of_path(model, flt.field_name or name) if model else None
        if related is not None:
            yield name, related


def list_filters():
    """(path, parameter, model) for every GET list endpoint of the schema and every id filter it takes."""
    found = []
    for path, methods in api_operations().items():
        if "{" in path or "get" not in methods:
            continue
        view = resolve(path).func.cls
        for backend in getattr(view, "filter_backends", ()):
            if not hasattr(backend, "get_filterset_class"):
                continue
            instance = view()
            instance.action = "list"
            filterset_class = backend().get_filterset_class(instance, getattr(view, "queryset", None))
            if filterset_class is not None:
                found += [(path, name, model) for name, model in id_filters(filterset_class)]
    return found


FILTERS = list_filters()
MODEL_OF = {(path, name): model for path, name, model in FILTERS}


# --- The objects an id may name -----------------------------------------------------------------------
def _theirs(c):
    """Account B's object of each model a filter may name."""
    appliance = make_appliance(c.account_b, c.org_b1, "zz-b-ua", last_contact_at=NOW - timedelta(hours=1))
    return {Organization: c.org_b1, Appliance: appliance, Asset: make_asset(appliance, "zz-b-vm"), User: c.superuser_b}


def _outside_the_limit(c):
    """Account A's objects in Acme, outside scoped_admin_a's Birch (and outside orphan_a's nothing)."""
    appliance = make_appliance(c.account_a, c.org_a1, "zz-acme-ua", last_contact_at=NOW - timedelta(hours=1))
    return {Organization: c.org_a1, Appliance: appliance, Asset: make_asset(appliance, "zz-acme-vm")}


@pytest.fixture
def world(cast):
    birch = make_appliance(cast.account_a, cast.org_a2, "birch-ua", last_contact_at=NOW - timedelta(hours=1))
    mine = {Organization: cast.org_a2, Appliance: birch, Asset: make_asset(birch, "birch-vm"), User: cast.superuser_a}
    cedar = Organization.objects.create(account=cast.account_a, name="Cedar")
    cast.orphan_a = add_member(cast.account_a, "orphan@a.example", PASSWORD, Role.MONITOR, organizations=[cedar])
    cedar.delete()  # R1.6: orphan_a is now limited to nothing
    cast.orphan_a = User.objects.get(pk=cast.orphan_a.pk)
    theirs, outside = _theirs(cast), _outside_the_limit(cast)
    evaluate(cast.account_a, NOW)
    evaluate(cast.account_b, NOW)
    return theirs, outside, mine


def _same(a, b):
    return a.status_code == b.status_code and a.content == b.content


# --- Completeness -------------------------------------------------------------------------------------
def test_r1_the_matrix_finds_the_id_filters_of_the_lists(db):
    found = set(MODEL_OF)
    # A few that must be there, so that a broken generator cannot pass by finding nothing.
    for known in [("/api/v1/alerts/", "organization"), ("/api/v1/alerts/", "asset"), ("/api/v1/jobs/", "appliance"),
                  ("/api/v1/assets/", "appliance"), ("/api/v1/saas-sources/", "organization"), ("/api/v1/audit/", "actor")]:
        assert known in found, known


def test_r1_every_filtered_model_has_a_factory(cast):
    known = set(_theirs(cast))
    missing = sorted({f"{path}?{name}= names a {model.__name__}" for path, name, model in FILTERS if model not in known})
    assert not missing, "\n".join(f"{m}: add a factory in {HERE}" for m in missing)


# --- The matrix ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("path", "name"), sorted(MODEL_OF))
def test_r1_1_r1_4_a_filter_id_of_another_account_or_outside_the_limit_answers_like_a_missing_one(cast, world, path, name):
    theirs, outside, _ = world
    model = MODEL_OF[(path, name)]
    for role in ROLES:
        client = api_client(getattr(cast, role))
        missing = client.get(path, {name: MISSING_ID})
        other = client.get(path, {name: theirs[model].pk})
        where = f"GET {path}?{name}= as {role}"
        assert _same(other, missing), (where, "another account's id", other.status_code, missing.status_code,
                                       other.content[:300], missing.content[:300])
        if role in LIMITED and model in outside:
            beyond = client.get(path, {name: outside[model].pk})
            assert _same(beyond, missing), (where, "an id outside the limit", beyond.status_code, missing.status_code)
        assert missing.status_code in (400, 403, 200), (where, missing.status_code)
        if missing.status_code == 400:  # bad input names the field, and says no more
            assert missing.json() == {"errors": {name: [missing.json()["errors"][name][0]]}}
            assert missing.json()["errors"][name][0].startswith("No such"), where


@pytest.mark.parametrize(("path", "name"), sorted(MODEL_OF))
def test_r1_4_a_filter_id_the_user_may_see_still_filters(cast, world, path, name):
    """The scoped filters still work: an id of the caller's own account answers 200."""
    own = world[2][MODEL_OF[(path, name)]]
    for role in ("superuser_a", "scoped_admin_a"):
        response = api_client(getattr(cast, role)).get(path, {name: own.pk})
        # The superuser reads every list: a scoped filter refusing their own id would be a bug, not a 403.
        allowed = (200,) if role == "superuser_a" else (200, 403)
        assert response.status_code in allowed, (path, name, role, response.status_code, response.content[:300])


# --- Dashboard pages ------------------------------------------------------------------------------------
CSRF = re.compile(rb'"X-CSRFToken": "[^"]+"|name="csrfmiddlewaretoken" value="[^"]+"|nonce="[^"]+"')  # per response


def _page_same(a, b):
    return a.status_code == b.status_code and CSRF.sub(b"", a.content) == CSRF.sub(b"", b.content)


@pytest.mark.slow
@pytest.mark.long(seconds=45)
@pytest.mark.parametrize("role", ["superuser_a", "scoped_admin_a", "orphan_a"])  # one test each: they spread over workers
def test_r1_1_r1_4_a_dashboard_filter_id_of_another_account_or_outside_the_limit_answers_like_a_missing_one(
        cast, world, client, role):
    theirs, outside, _ = world
    names = {(name, model) for _, name, model in FILTERS}
    pages = [r for r in page_routes() if PAGE_RULES.get(r) == ACCOUNT_WIDE and "<" not in r]
    client.force_login(getattr(cast, role))
    for route in pages:
        for name, model in sorted(names, key=lambda n: n[0]):
            url = "/" + route
            missing = client.get(url, {name: MISSING_ID})
            other = client.get(url, {name: theirs[model].pk})
            assert _page_same(other, missing), (url, name, role, "another account's id")
            if role in LIMITED and model in outside:
                beyond = client.get(url, {name: outside[model].pk})
                assert _page_same(beyond, missing), (url, name, role, "an id outside the limit")


def test_r1_1_a_filter_naming_a_person_takes_only_people_the_caller_may_see(cast):
    """The one place that scopes filters also knows people, who reach their account through a membership."""
    import django_filters
    from rest_framework.test import APIRequestFactory

    from audit.models import AuditEntry
    from tenancy.filters import scope_filters

    class ByActor(django_filters.FilterSet):
        actor = django_filters.ModelChoiceFilter(queryset=User.objects.all())

        class Meta:
            model = AuditEntry
            fields = ["actor"]

    request = APIRequestFactory().get("/")
    request.user = cast.superuser_a
    for person, valid in ((cast.monitor_a, True), (cast.superuser_b, False)):
        filterset = scope_filters(ByActor({"actor": person.pk}, AuditEntry.objects.all(), request=request),
                                  cast.superuser_a)
        assert filterset.is_valid() is valid, person.email


def test_r1_1_the_asset_pages_back_link_takes_an_id_or_nothing(cast, world, client):
    """`/assets/<pk>/?alert=` echoes an alert id into a link; nonsense gives no link (not a 500), and the
    link to another account's alert leads where a missing one does."""
    from alerts.models import Alert

    mine = world[2][Asset]
    own = Alert.objects.filter(account=cast.account_a, organization=cast.org_a2).first()
    theirs = Alert.objects.filter(account=cast.account_b).first()
    client.force_login(cast.scoped_admin_a)
    url = f"/assets/{mine.pk}/"
    assert f'href="/alerts/{own.pk}/"' in client.get(url, {"alert": own.pk}).content.decode()
    plain = CSRF.sub(b"", client.get(url).content)
    for nonsense in ("abc", "1/../2", "-1", "１２"):
        response = client.get(url, {"alert": nonsense})
        assert response.status_code == 200 and CSRF.sub(b"", response.content) == plain, nonsense
    assert client.get(f"/alerts/{theirs.pk}/").status_code == client.get(f"/alerts/{MISSING_ID}/").status_code == 404
