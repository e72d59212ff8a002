"""R1: one way into every dashboard page. A page reaches tenant data only through the member
`tenancy.pages.member_page` gives it (`member.scope`, `member.get`, `member.can`): a view
module that writes `.objects`, calls `scope()` or `member_account()` itself, or brings its
own permission check or 404 fails here, and so does a page the way in does not guard."""

import ast
from pathlib import Path

import pytest
from django.urls import URLResolver, get_resolver

ROOT = Path(__file__).resolve().parent.parent
# Signing in, two-factor and invitations come before a membership exists: they are not pages of an account.
# The API's base viewset is the API's own way in (scoped querysets, IsMember), not a page.
NOT_PAGES = {"tenancy/login_views.py", "tenancy/viewsets.py"}
# Every dashboard view module, and the panels rooms add to other rooms' pages.
ROOMS = [d for d in ROOT.iterdir() if (d / "apps.py").exists()]
PAGE_MODULES = sorted(
    str(path.relative_to(ROOT))
    for room in ROOMS
    for pattern in ("*views*.py", "panels.py")
    for path in room.rglob(pattern)
    if str(path.relative_to(ROOT)) not in NOT_PAGES
)
MANAGERS = {"objects", "_default_manager", "_base_manager"}
SCOPING = {"scope", "member_account", "account_of", "membership_of", "organization_limit"}
# What the way in does for a page: a view never brings its own.
OWN_DOORS = {
    "login_required": "@member_page, which signs in",
    "PermissionDenied": "member.require(action, refusal), or @member_page(require=…, write=…)",
    "get_object_or_404": "member.get(Model, pk=…)",
    "go_next": "member.go_next(fallback)",
}


def doors_around_the_way_in(source: str) -> list[str]:
    """Every place a module reaches a model, or decides who may enter, other than through its member."""
    found = []
    for node in ast.walk(ast.parse(source)):
        line = getattr(node, "lineno", "?")
        if isinstance(node, ast.Attribute) and node.attr in MANAGERS:
            found.append(f"line {line}: .{node.attr} (use member.scope(Model))")
        elif isinstance(node, ast.ImportFrom) and node.module == "tenancy.scoping":
            found.append(f"line {line}: imports tenancy.scoping (name actions from tenancy.pages)")
        elif isinstance(node, ast.ImportFrom) and node.module == "tenancy":
            if any(alias.name == "scoping" for alias in node.names):
                found.append(f"line {line}: imports tenancy.scoping (name actions from tenancy.pages)")
        elif isinstance(node, ast.Import) and any(alias.name == "tenancy.scoping" for alias in node.names):
            found.append(f"line {line}: imports tenancy.scoping (name actions from tenancy.pages)")
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            by_member = isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "member"
            if name in SCOPING and not by_member:
                found.append(f"line {line}: {name}() outside the way in (use the page's member)")
        if isinstance(node, ast.Name) and node.id in OWN_DOORS:
            found.append(f"line {line}: {node.id} (use {OWN_DOORS[node.id]})")
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name in OWN_DOORS:
                    found.append(f"line {line}: imports {alias.name} (use {OWN_DOORS[alias.name]})")
    return found


def test_every_dashboard_view_module_is_checked():
    expected = {
        "alerts/views.py", "alerts/settings_views.py", "audit/views.py", "integrations/views.py",
        "integrations/saas_views.py", "inventory/views.py", "inventory/appliance_views.py",
        "notifications/views.py", "notifications/webhook_views.py", "tenancy/views.py",
        "tenancy/settings_views.py", "tenancy/job_views.py", "thresholds/views.py",
    }
    assert expected <= set(PAGE_MODULES), expected - set(PAGE_MODULES)


@pytest.mark.parametrize("module", PAGE_MODULES)
def test_a_view_module_reaches_models_only_through_its_member(module):
    found = doors_around_the_way_in((ROOT / module).read_text())
    assert not found, f"{module} goes around tenancy.pages:\n" + "\n".join(found)


@pytest.mark.parametrize("source, door", [
    ("Alert.objects.filter(state='open')", ".objects"),
    ("from tenancy import scoping\nscoping.scope(request.user, qs)", "imports tenancy.scoping"),
    ("scope(request.user, qs)", "scope()"),
    ("from tenancy.scoping import member_account", "imports tenancy.scoping"),
    ("helpers.member_account(request.user)", "member_account()"),
    ("from django.shortcuts import get_object_or_404", "get_object_or_404"),
    ("raise PermissionDenied('Only a superuser manages integrations.')", "PermissionDenied"),
    ("@login_required\ndef page(request):\n    pass", "login_required"),
])
def test_the_check_catches_each_way_around(source, door):
    assert any(door in finding for finding in doors_around_the_way_in(source)), source


def test_the_check_lets_the_member_through():
    source = "member.scope(Alert).filter(state='open')\nmember.get(Alert, pk=1)\nmember.can(DISMISS)\n"
    assert doors_around_the_way_in(source) == []


def _pages(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _pages(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern.callback


# Not pages of an account: the API (its own base viewset), the admin, signing in, probes, the schema.
OUTSIDE = ("api/", "admin/", "accounts/", "healthz", "metrics", "static/", "^static", "__debug__")


def test_every_dashboard_page_comes_through_the_way_in():
    pages = [(route, callback) for route, callback in _pages(get_resolver().url_patterns)
             if not route.startswith(OUTSIDE)]
    assert len(pages) > 50  # the dashboard really is walked
    around = [f"/{route} ({callback.__module__}.{callback.__name__})" for route, callback in pages
              if not getattr(callback, "member_page", False)]
    assert not around, "pages not decorated with tenancy.pages.member_page:\n" + "\n".join(around)


# --- What the way in answers ------------------------------------------------------------------------
def test_a_refusal_is_the_products_403_page_saying_why(cast, client):
    client.force_login(cast.monitor_a)
    response = client.get("/settings/webhooks/")
    assert response.status_code == 403
    page = response.content.decode()
    assert 'data-testid="error-403"' in page and "Only a superuser manages webhooks." in page


def test_a_write_the_role_may_not_make_is_refused_saying_why(cast, client):
    client.force_login(cast.admin_a)
    response = client.post("/thresholds/", {"backups_hours": "4"})
    assert response.status_code == 403 and "Only a superuser may change thresholds." in response.content.decode()


def test_an_object_out_of_reach_is_the_products_404_page_saying_so(cast, client):
    client.force_login(cast.admin_a)
    response = client.get("/alerts/2000000000/")
    assert response.status_code == 404
    page = response.content.decode()
    assert 'data-testid="error-404"' in page and "This alert does not exist, or it is not one you may see." in page


def test_a_user_of_no_account_is_refused_on_every_page_saying_why(db, client, django_user_model):
    user = django_user_model.objects.create_user("lost@example.com", "lost@example.com", "pw-123456789")
    client.force_login(user)
    for url in ("/organizations/", "/alerts/1/", "/settings/tokens/", "/thresholds/"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Your user is not a member of any account." in response.content.decode(), url


def test_a_page_answers_only_the_methods_it_takes(cast, client):
    client.force_login(cast.superuser_a)
    assert client.get("/settings/alerts/evaluate/").status_code == 405
    client.logout()
    response = client.post("/settings/alerts/evaluate/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
