"""Settings > Webhooks in a real browser: send a test event, remove through the product's dialog."""

import pytest

from fakes.webhook import WebhookReceiver
from notifications.models import WebhookEndpoint
from tests.browser import log_in
from tests.conftest import PASSWORD, build_cast

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_superuser_sends_a_test_event_and_removes_the_webhook_after_confirming(live_server, browser_page):
    receiver = WebhookReceiver().start()
    try:
        cast = build_cast()
        endpoint = WebhookEndpoint(account=cast.account_a, name="Ops desk", url=receiver.url + "/in")
        endpoint.secret = "a-secret-for-the-browser-1234"
        endpoint.save()
        page = browser_page
        log_in(page, live_server, "super@a.example", PASSWORD)
        page.goto(f"{live_server.url}/settings/webhooks/")
        page.click(f"[data-testid=webhook-test-{endpoint.pk}]")
        page.wait_for_selector("text=The receiver accepted the test event (HTTP 200).")
        assert len(receiver.accepted) == 1

        page.click(f"[data-testid=webhook-remove-{endpoint.pk}]")
        dialog = page.locator("[data-testid=confirm-dialog]")
        assert "Remove the webhook Ops desk?" in dialog.locator("[data-testid=confirm-question]").text_content()
        dialog.locator("[data-testid=confirm-cancel]").click()
        assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()  # cancel keeps it

        page.click(f"[data-testid=webhook-remove-{endpoint.pk}]")
        dialog.locator("[data-testid=confirm-ok]").click()
        page.wait_for_selector("text=No webhooks yet.")
        assert not WebhookEndpoint.objects.exists()
    finally:
        receiver.stop()
