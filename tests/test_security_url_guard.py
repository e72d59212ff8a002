"""Issue 7 security: where an integration may send our vendor credentials.

Only loopback servers are ever contacted; other addresses are only resolved
(IP literals resolve without any traffic).
"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from integrations import http, url_guard
from integrations.models import Integration
from tests.conftest import api_client


class Recorder:
    """A loopback server that counts requests and answers with a fixed status and headers."""

    def __init__(self, status=200, headers=None):
        self.hits = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                recorder.hits.append(self.path)
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value.format(port=self.server.server_port))
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def production(settings):
    settings.OUTBOUND_REQUIRE_HTTPS = True
    settings.OUTBOUND_ALLOW_PRIVATE = False
    settings.OUTBOUND_ALLOW_LOOPBACK = False  # only the test settings open it, for the fakes


@pytest.mark.parametrize(("url", "why"), [
    ("http://93.184.216.34/api", "Only https"),
    ("https://127.0.0.1/api", "loopback"),
    ("https://localhost:8443/", "loopback"),
    ("https://[::1]/", "loopback"),
    ("https://[::ffff:127.0.0.1]/", "loopback"),
    ("https://169.254.169.254/latest/meta-data/", "link-local"),
    ("https://10.1.2.3/", "private"),
    ("https://192.168.0.10/", "private"),
    ("https://100.64.1.1/", "carrier-grade NAT"),
    ("https://0.0.0.0/", "unspecified"),
    ("https://user:secret@93.184.216.34/", "credentials"),
    ("ftp://93.184.216.34/", "full http"),
])
def test_in_production_unsafe_urls_are_refused_with_the_reason(production, url, why):
    with pytest.raises(url_guard.UnsafeURL, match=why):
        url_guard.check(url)


def test_in_production_a_public_https_url_passes(production):
    assert url_guard.check("https://93.184.216.34/api/v1") == "https://93.184.216.34/api/v1"


def test_the_test_settings_allow_loopback_http_for_the_fakes():
    assert url_guard.check("http://127.0.0.1:9/x") == "http://127.0.0.1:9/x"


def test_in_production_the_session_refuses_before_sending_anything(production):
    server = Recorder()
    try:
        with pytest.raises(url_guard.UnsafeURL):
            http.session(retries=0).get(f"http://127.0.0.1:{server.port}/ping")
        # A vendor client reports it with the guard's reason, without a request leaving.
        with pytest.raises(http.VendorError, match="Datto was not called: Only https"):
            http.get_json(http.session(retries=0), f"http://127.0.0.1:{server.port}/ping", "Datto")
        assert server.hits == []
    finally:
        server.stop()


def test_a_redirect_to_another_host_is_not_followed():
    elsewhere = Recorder()
    origin = Recorder(status=302, headers={"Location": f"http://localhost:{elsewhere.port}/steal"})
    try:
        response = http.session(retries=0).get(f"http://127.0.0.1:{origin.port}/start")
        assert response.status_code == 302 and elsewhere.hits == [] and origin.hits == ["/start"]
    finally:
        origin.stop()
        elsewhere.stop()


def test_every_call_has_a_timeout():
    server = Recorder()
    try:
        s = http.session(retries=0)
        seen = {}
        original = http.requests.Session.send

        def spy(self, request, **kwargs):
            seen["timeout"] = kwargs.get("timeout")
            return original(self, request, **kwargs)

        http.requests.Session.send = spy
        try:
            s.get(f"http://127.0.0.1:{server.port}/")
        finally:
            http.requests.Session.send = original
        assert seen["timeout"] == http.DEFAULT_TIMEOUT
    finally:
        server.stop()


def test_the_api_refuses_to_save_an_integration_pointing_at_the_metadata_service(cast, production):
    client = api_client(cast.superuser_a)
    response = client.post("/api/v1/integrations/", {
        "kind": "datto", "name": "Datto", "base_url": "https://169.254.169.254/latest/",
        "credentials": {"public_key": "pk", "secret_key": "sk"},
    }, format="json")
    assert response.status_code == 400
    assert "link-local" in response.json()["errors"]["base_url"][0]
    assert not Integration.objects.filter(account=cast.account_a).exists()


def test_the_api_refuses_to_repoint_an_integration_at_loopback(cast, production):
    integration = Integration.objects.create(account=cast.account_a, kind="datto", name="Datto",
                                             base_url="https://93.184.216.34/",
                                             credentials={"public_key": "pk", "secret_key": "sk"})
    response = api_client(cast.superuser_a).patch(f"/api/v1/integrations/{integration.pk}/",
                                                  {"base_url": "https://127.0.0.1:6379/"}, format="json")
    assert response.status_code == 400 and "base_url" in response.json()["errors"]
    integration.refresh_from_db()
    assert integration.base_url == "https://93.184.216.34/"


def test_credentials_never_reach_the_logs_even_at_debug_level(cast, caplog):
    """Issue 7: a full sync and a refused one, with every logger at DEBUG: the secret never appears."""
    from fakes.datto import DattoFake
    from integrations.pollers import poll

    fake = DattoFake(secret="zq-very-secret-9137").start()
    try:
        integration = Integration.objects.create(
            account=cast.account_a, kind="datto", name="Datto", base_url=fake.url + "/v1",
            credentials={"public_key": fake.username, "secret_key": fake.secret},
        )
        with caplog.at_level("DEBUG"):
            poll(integration)
            fake.unauthorized()
            poll(integration)
            api_client(cast.superuser_a).get(f"/api/v1/integrations/{integration.pk}/")
    finally:
        fake.stop()
    logged = caplog.text + str([r.__dict__ for r in caplog.records])
    host = fake.url.split("//")[1]
    assert any(host in r.getMessage() for r in caplog.records)  # the calls to the fake were logged
    assert fake.secret not in logged
