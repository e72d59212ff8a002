"""A real Chromium (Debian's) driven by Playwright, against pytest-django's live server.

Playwright's sync API runs an event loop in the test's thread; Django refuses
ORM calls in such a thread unless told it is safe, which it is here (the loop
belongs to Playwright, not to our code).

`browser_page` starts a browser per test; `chromium` starts one per module and `module_page`
gives each test a fresh context (cookies, storage) in it — the lean way for a module of many
browser tests.
"""

import os

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _page(browser, viewport=None, timezone_id=None):
    options = {"viewport": viewport or DESKTOP}
    if timezone_id:
        options["timezone_id"] = timezone_id
    context = browser.new_context(**options)
    page = context.new_page()
    page.set_default_timeout(15000)
    page.on("dialog", lambda dialog: dialog.accept())  # a browser dialog would be a defect; never block on one
    return context, page


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context, page = _page(browser)
        yield page
        context.close()
        browser.close()


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def module_page(chromium):
    """A fresh page at desktop width in the module's browser; `open_page(viewport=PHONE)` for more."""
    contexts = []

    def open_page(viewport=None, timezone_id=None):
        context, page = _page(chromium, viewport, timezone_id)
        contexts.append(context)
        return page

    page = open_page()
    page.open_page = open_page
    yield page
    for context in contexts:
        context.close()


def log_in(page, live_server, email, password, then="/alerts/"):
    """Signs in through the login form and lands on `then` (the alert list unless told)."""
    page.goto(f"{live_server.url}/accounts/login/?next={then}")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}{then}")


def axe_violations(page, live_server, impacts=("serious", "critical")):
    """axe-core (static/vendor/axe.min.js) run in the page: the violations of the given impacts,
    each as "rule-id: help (n nodes: first selector)"."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=f"{live_server.url}/static/vendor/axe.min.js")  # script-src 'self'
    results = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes: {v['nodes'][0]['target']})"
        for v in results if v["impact"] in impacts
    ]
