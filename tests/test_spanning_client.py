"""The Spanning clients against the fake Spanning servers: auth, regions, paging, quota, slowness, bad data."""

import logging
import threading
import time
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from alerts.models import Alert
from fakes.spanning import SalesforceFake
from integrations import http
from integrations.pollers import poll
from integrations.spanning.client import GoogleClient, M365Client, SalesforceClient
from inventory.models import SaasDailyStatus, SaasSource
from tests.test_spanning import day, first_poll_and_map, integration_for, noon


@pytest.fixture
def m365(m365_fake):
    fake = m365_fake
    yield fake


def client(fake, **kwargs):
    return M365Client(fake.username, fake.secret, base_url=fake.url + "/external", **kwargs)


def test_regions_build_the_vendor_base_urls():
    assert M365Client("a", "b", region="eu").base_url == "https://o365-api-eu.spanningbackup.com/external"
    assert GoogleClient("a", "b", region="ca").base_url == "https://api-ca.spanningbackup.com/api/v1"
    assert SalesforceClient("a", "b", region="uk").base_url == "https://salesforce-api-uk.spanningbackup.com/api/v1"
    with pytest.raises(http.VendorError, match="region"):
        M365Client("a", "b", region="mars")


def test_basic_auth_is_sent_and_wrong_credentials_are_invalid_credentials(m365):
    assert client(m365).tenant()["licenses"] == 50
    assert m365.requests[-1].user == m365.username
    with pytest.raises(http.InvalidCredentials):
        M365Client(m365.username, "wrong", base_url=m365.url + "/external").tenant()


def test_users_follow_next_link_until_a_page_has_none(m365):
    users = client(m365).users()
    assert [u["userPrincipalName"] for u in users] == [f"u{i}@contoso.example" for i in range(5)]
    assert len([r for r in m365.requests if r.path == "/external/users"]) == 3


@pytest.mark.slow
def test_a_429_is_retried_at_most_three_tries_then_reported_as_quota(m365):
    m365.quota(times=2)
    assert client(m365).tenant()["users"] == 42  # two refusals, the third try answers
    m365.quota(times=3)
    with pytest.raises(http.QuotaReached):
        client(m365).tenant()
    assert len(m365.requests) == 6


def test_a_slow_answer_times_out_as_a_vendor_error(m365):
    m365.slow(1.0)
    with pytest.raises(http.VendorError, match="could not be reached"):
        M365Client(m365.username, m365.secret, base_url=m365.url + "/external", timeout=(1, 0.2)).tenant()


def test_the_summary_asks_for_seven_days_at_most_in_epoch_ms(m365):
    client(m365).daily_statuses(date(2026, 10, 1), date(2026, 10, 20))
    query = m365.requests[-1].query
    start = datetime.fromtimestamp(int(query["start"]) / 1000, tz=UTC).date()
    end = datetime.fromtimestamp(int(query["end"]) / 1000, tz=UTC).date()
    assert (start, end) == (date(2026, 10, 14), date(2026, 10, 20))


def test_a_redirect_to_another_host_is_not_followed():
    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(302)
            self.send_header("Location", "http://localhost:9/steal")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        s = http.session()
        response = s.get(f"http://127.0.0.1:{server.server_address[1]}/x", auth=("user", "secret"))
        assert response.status_code == 302 and "localhost:9" in response.headers["Location"]
        assert s.headers["User-Agent"].startswith("uniview/")
    finally:
        server.shutdown()
        server.server_close()


def test_bad_summary_rows_are_logged_and_their_day_skipped_never_a_wrong_status(cast, m365, caplog):
    integration = integration_for(cast.account_a, m365, "spanning_m365")
    m365.set_day(day(1), "Successful")
    m365.extra_rows = [
        {"date": day(2).strftime("%m/%d/%Y"), "type": "MAIL", "backup": {"total": 3, "failed": "many"}},
        {"date": "not a date", "type": "MAIL", "backup": {"total": 1, "failed": 1, "partial": 0, "successful": 0}},
        {"type": "MAIL"},
        "garbage",
        {"date": day(1).strftime("%m/%d/%Y"), "type": "PLANNER",
         "backup": {"total": 1, "failed": 0, "partial": 1, "successful": 0}},
    ]
    m365.days[day(2)] = {"MAIL": "Successful"}  # day 2's good rows must not make it look Successful
    with caplog.at_level(logging.WARNING, logger="integrations.spanning"):
        assert "failed" not in poll(integration, noon(2))
    stored = dict(SaasDailyStatus.objects.values_list("date", "status"))
    assert stored == {day(1): "Partial"}  # the unknown service counts; day 2 is skipped
    assert len([r for r in caplog.records if "skipped" in r.getMessage()]) == 4


def test_garbage_json_fails_the_poll_keeps_the_data_and_records_why(cast, m365):
    integration = integration_for(cast.account_a, m365, "spanning_m365")
    m365.set_day(day(1), "Failed")
    source = first_poll_and_map(integration, cast.org_a1, noon(1))
    m365.garbage()
    for n in (2, 3):
        m365.set_day(day(n), "Failed")
        assert "failed" in poll(integration, noon(n))
    integration.refresh_from_db()
    assert integration.last_sync_ok is False and "not JSON" in integration.last_error
    assert list(source.daily_statuses.values_list("date", flat=True)) == [day(1)]
    assert not Alert.objects.filter(kind="spanning_m365").exists()
    m365.garbage(False)
    poll(integration, noon(3))  # the missed days are fetched once the vendor answers again
    assert source.daily_statuses.count() == 3
    assert Alert.objects.get(kind="spanning_m365").details["level"] == "failed"


def test_salesforce_unknown_status_skips_the_day(cast, caplog):
    fake = SalesforceFake().start()
    try:
        integration = integration_for(cast.account_a, fake, "spanning_salesforce")
        fake.backups["00D000000000001"] = {day(1): "Successful", day(2): "Exploded"}
        fake.orgs.append({"name": "no id"})
        with caplog.at_level(logging.WARNING, logger="integrations.spanning"):
            poll(integration, noon(2))
        assert dict(SaasDailyStatus.objects.values_list("date", "status")) == {day(1): "Successful"}
        assert SaasSource.objects.get().name == "Contoso Sales"
        assert len([r for r in caplog.records if "skipped" in r.getMessage()]) == 2
    finally:
        fake.stop()


def test_a_401_fails_the_poll_without_touching_stored_statuses(cast, m365):
    integration = integration_for(cast.account_a, m365, "spanning_m365")
    m365.set_day(day(1), "Successful")
    poll(integration, noon(1))
    m365.unauthorized()
    assert "refused the credentials" in poll(integration, noon(1) + timedelta(days=1))
    assert SaasDailyStatus.objects.count() == 1
    integration.refresh_from_db()
    assert m365.secret not in integration.last_error


def test_retry_after_is_honoured_between_tries(m365):
    m365.quota("1")
    started = time.monotonic()
    assert client(m365).tenant()["status"] == "paid"
    assert time.monotonic() - started >= 1.0
    assert len(m365.requests) == 2
