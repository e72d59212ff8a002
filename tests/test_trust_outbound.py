"""Trust I: outbound calls reach only the addresses they may, and a vendor cannot park our work.

Only loopback servers are ever contacted; other addresses are only resolved, and the
DNS-rebinding case uses a resolver the test controls (socket.getaddrinfo, patched here only).
"""

import datetime as dt
import ipaddress
import os
import socket
import ssl
import subprocess
import sys
import threading
from datetime import timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.test import Client
from django.utils import timezone

from alerts.evaluation import evaluate
from fakes.psa import FAKES, make_psa
from integrations import http, url_guard
from integrations.models import Integration
from notifications.models import Delivery
from tests.conftest import NOW, api_client, make_appliance
from tests.test_psa_tickets import deliver_all

ROOT = Path(__file__).resolve().parent.parent
PUBLIC = "93.184.216.34"  # only ever resolved to, never contacted


@pytest.mark.parametrize("retry_after", [
    "31536000",  # a year, in seconds
    format_datetime(timezone.now() + timedelta(days=365), usegmt=True),  # a year, as an HTTP date
    "1e400",  # infinity
], ids=["seconds", "http-date", "infinity"])  # the same ids in every xdist worker (the date moves)
def test_r13_5_a_psas_retry_after_cannot_park_a_delivery_longer_than_an_hour(cast, retry_after):
    fake = FAKES["connectwise"]().start()
    try:
        make_psa(cast.account_a, "connectwise", fake)
        make_appliance(cast.account_a, cast.org_a1, "silent", last_contact_at=NOW - timedelta(hours=1))
        evaluate(cast.account_a, NOW)
        fake.quota(retry_after)
        before = timezone.now()
        assert deliver_all("connectwise") == ["pending"]
        delivery = Delivery.objects.get(channel="connectwise")
        assert "429" in delivery.last_error
        wait = delivery.next_attempt_at - before
        assert timedelta(minutes=30) < wait <= timedelta(hours=1, seconds=5)
    finally:
        fake.stop()


def test_r13_5_a_reasonable_retry_after_is_honoured_as_the_psa_asked():
    assert http.retry_after_value("120") == 120.0
    assert http.retry_after_value("-5") == 0.0
    assert http.retry_after_value("soon") is None
    assert http.retry_after_value("31536000") == http.RETRY_AFTER_MAX == 3600


# --- The outbound guard (issue 11 item 6) -------------------------------------------------------

class Recorder:
    """A loopback server that counts the requests that reach it (optionally over TLS)."""

    def __init__(self, tls_context=None):
        self.hits = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                recorder.hits.append((self.path, self.headers.get("Host")))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls_context is not None:
            self.server.socket = tls_context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def server():
    recorder = Recorder()
    yield recorder
    recorder.stop()


@pytest.fixture
def production(settings):
    """uniview.settings as deployed: no loopback (the test settings open it for the fakes)."""
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    settings.OUTBOUND_ALLOW_PRIVATE = False
    settings.OUTBOUND_REQUIRE_HTTPS = False  # the loopback recorder speaks plain http
    settings.OUTBOUND_ALLOW_CIDRS = []


class Resolver:
    """A DNS we control, for names under .test only: `vendor="127.0.0.1"` makes vendor.test
    answer 127.0.0.1; any other name goes to the real resolver."""

    def __init__(self, monkeypatch, **answers):
        self.answers = {name + ".test": ip for name, ip in answers.items()}
        real = socket.getaddrinfo

        def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
            if host not in self.answers:
                return real(host, port, family, type, proto, flags)
            ip = self.answers[host]
            af = socket.AF_INET6 if ":" in ip else socket.AF_INET
            address = (ip, int(port), 0, 0) if af == socket.AF_INET6 else (ip, int(port))
            return [(af, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", address)]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def rebinding_dns(monkeypatch, name):
    """A rebinding DNS for `name`: a public address to every lookup made by the guard's URL check
    (on save, and before a request where one checks there), 127.0.0.1 to any other lookup — the
    one made to connect — however many lookups either side makes."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host != name:
            return real(host, port, *args, **kwargs)
        frame, from_check = sys._getframe(1), False
        while frame is not None and not from_check:
            from_check = frame.f_code.co_name == "check" and frame.f_globals.get("__name__") == url_guard.__name__
            frame = frame.f_back
        ip = PUBLIC if from_check else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (ip, int(port)))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_dns_rebinding_between_the_check_and_the_connection_is_refused(production, server, monkeypatch):
    rebinding_dns(monkeypatch, "rebind.test")
    url = f"http://rebind.test:{server.port}/steal"
    assert url_guard.check(url) == url  # the save: a public address, accepted
    with pytest.raises(url_guard.UnsafeURL, match=r"127\.0\.0\.1, a loopback address"):
        http.session(retries=0).get(url)
    assert server.hits == []  # the address actually connected to is the one judged


def test_a_name_that_answers_loopback_at_connection_is_refused_even_when_retried(production, server, monkeypatch):
    Resolver(monkeypatch, flip="127.0.0.1")
    with pytest.raises(url_guard.UnsafeURL, match="loopback"):
        http.session(retries=3, backoff=0).get(f"http://flip.test:{server.port}/")
    assert server.hits == []


def test_a_configured_proxy_is_refused_because_the_guard_could_not_see_the_address(production, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.test:3128")
    with pytest.raises(url_guard.UnsafeURL, match="NO_PROXY"):
        http.session(retries=0).get(f"https://{PUBLIC}/")


def test_the_connection_goes_to_the_checked_address_and_keeps_the_host_name(server, monkeypatch):
    """With loopback open (test settings), a name is connected to at the address it was checked at."""
    Resolver(monkeypatch, vendor="127.0.0.1")
    response = http.session(retries=0).get(f"http://vendor.test:{server.port}/ping")
    assert response.status_code == 200
    assert server.hits == [("/ping", f"vendor.test:{server.port}")]


def _tls_for(name, tmp_path):
    """A self-signed certificate for `name` and the server context that presents it, noting SNI."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    seen = []
    context.sni_callback = lambda sock, server_name, ctx: seen.append(server_name)
    return context, str(cert_path), seen


def test_tls_still_sends_sni_and_verifies_the_certificate_against_the_host_name(monkeypatch, tmp_path):
    context, ca, sni = _tls_for("vendor.test", tmp_path)
    tls = Recorder(tls_context=context)
    try:
        Resolver(monkeypatch, vendor="127.0.0.1", impostor="127.0.0.1")
        response = http.session(retries=0).get(f"https://vendor.test:{tls.port}/ok", verify=ca)
        assert response.status_code == 200 and sni == ["vendor.test"]
        # The same server under another name: the certificate does not match, nothing is sent.
        with pytest.raises(requests.exceptions.SSLError):
            http.session(retries=0).get(f"https://impostor.test:{tls.port}/no", verify=ca)
        assert [hit[0] for hit in tls.hits] == ["/ok"]
    finally:
        tls.stop()


NEVER_REACHED = [
    ("127.0.0.1", "loopback"), ("127.8.9.10", "loopback"), ("::1", "loopback"),
    ("169.254.169.254", "link-local"), ("fe80::1", "link-local"),
    ("fd00:ec2::254", "cloud metadata"), ("168.63.129.16", "cloud metadata"),
    ("0.0.0.0", "unspecified"), ("224.0.0.251", "multicast"), ("ff02::1", "multicast"),
    ("240.0.0.1", "reserved"), ("100.64.0.1", "carrier-grade NAT"), ("198.18.0.1", "benchmarking"),
    ("192.0.2.10", "documentation"), ("2001:db8::1", "documentation"),
    ("64:ff9b::7f00:1", "NAT64"), ("2002:7f00:1::", "6to4"), ("2001:0:4136:e378::1", "Teredo"),
    ("::7f00:1", "IPv4-compatible"), ("::ffff:10.0.0.1", "IPv4-mapped"), ("::ffff:127.0.0.1", "loopback"),
    ("fec0::1", "site-local"),
]


@pytest.mark.parametrize(("ip", "why"), NEVER_REACHED)
def test_every_non_global_class_is_refused_even_with_private_networks_allowed(production, settings, ip, why):
    settings.OUTBOUND_ALLOW_PRIVATE = True  # on-premises appliances: RFC 1918 and ULA only
    host = f"[{ip}]" if ":" in ip else ip
    with pytest.raises(url_guard.UnsafeURL, match=why):
        url_guard.check(f"https://{host}/api")


@pytest.mark.parametrize(("ip", "why"), NEVER_REACHED)
def test_every_non_global_class_is_refused_at_connection_time_too(production, settings, monkeypatch, ip, why):
    """The address a name answers at connection is judged like a literal one (nothing listens there)."""
    settings.OUTBOUND_ALLOW_PRIVATE = True
    Resolver(monkeypatch, sneaky=ip)
    with pytest.raises(url_guard.UnsafeURL, match=why):
        http.session(retries=0).get("http://sneaky.test:9/")


def test_private_networks_open_only_by_configuration(production, settings):
    for url in ("https://10.20.1.1/", "https://192.168.1.5/", "https://[fd12:3456::1]/"):
        with pytest.raises(url_guard.UnsafeURL, match="private"):
            url_guard.check(url)
    settings.OUTBOUND_ALLOW_PRIVATE = True
    for url in ("https://10.20.1.1/", "https://192.168.1.5/", "https://[fd12:3456::1]/"):
        assert url_guard.check(url) == url


def test_an_allow_list_of_networks_opens_exactly_those_networks(production, settings):
    settings.OUTBOUND_ALLOW_CIDRS = [ipaddress.ip_network("10.20.0.0/16"), ipaddress.ip_network("fd00::/8"),
                                     ipaddress.ip_network("100.64.0.0/10")]
    assert url_guard.check("https://10.20.3.4/") == "https://10.20.3.4/"
    assert url_guard.check("https://[fd00:1::5]/") == "https://[fd00:1::5]/"
    assert url_guard.check("https://100.100.1.1/") == "https://100.100.1.1/"  # e.g. a Tailscale address
    with pytest.raises(url_guard.UnsafeURL, match="OUTBOUND_ALLOW_CIDRS"):
        url_guard.check("https://10.21.0.1/")
    with pytest.raises(url_guard.UnsafeURL, match="cloud metadata"):
        url_guard.check("https://[fd00:ec2::254]/")  # inside fd00::/8, still never
    with pytest.raises(url_guard.UnsafeURL, match="cloud metadata"):
        url_guard.check("https://100.100.100.200/")  # inside 100.64.0.0/10, still never


def start(env, code="import django; django.setup()"):
    """A fresh process on the production settings module, with `env` in its environment."""
    full = {**os.environ, "DJANGO_SETTINGS_MODULE": "uniview.settings", "DATABASE_URL": "", **env}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=full, capture_output=True, text=True)


@pytest.mark.parametrize(("value", "why"), [
    ("10.20.0.0/16,not-a-network", "'not-a-network' is not a network"),
    ("10.20.0.1/16", "has host bits set"),
    ("127.0.0.0/8", "loopback"),
    ("0.0.0.0/0", "never allowed"),
    ("fe80::/16", "link-local"),
])
@pytest.mark.slow
def test_a_bad_or_dangerous_allow_list_stops_the_process_at_start(value, why):
    result = start({"OUTBOUND_ALLOW_CIDRS": value})
    assert result.returncode != 0
    assert "OUTBOUND_ALLOW_CIDRS" in result.stderr and why in result.stderr


@pytest.mark.slow
def test_no_environment_variable_opens_loopback_in_production():
    code = (
        "import django; django.setup()\n"
        "from integrations import url_guard\n"
        "try:\n    url_guard.check('http://127.0.0.1:9/')\nexcept url_guard.UnsafeURL as e:\n    print('refused:', e)\n"
    )
    result = start({"OUTBOUND_ALLOW_LOOPBACK": "1", "OUTBOUND_ALLOW_PRIVATE": "1",
                    "OUTBOUND_ALLOW_CIDRS": "10.0.0.0/8", "SECURE_COOKIES": "0"}, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("refused:") and "loopback" in result.stdout


# --- The refusal reaches the person -------------------------------------------------------------

def test_test_connection_in_the_api_and_the_dashboard_says_why_the_address_was_refused(cast, production):
    fake = FAKES["connectwise"]().start()
    try:
        integration = make_psa(cast.account_a, "connectwise", fake)  # saved before the guard applied
        answer = api_client(cast.superuser_a).post(f"/api/v1/integrations/{integration.pk}/test/").json()
        assert answer["ok"] is False
        assert "127.0.0.1, a loopback address, which integrations may not reach" in answer["message"]
        client = Client()
        client.force_login(cast.superuser_a)
        page = client.post(f"/settings/integrations/{integration.pk}/test/", follow=True).content.decode()
        assert "a loopback address, which integrations may not reach" in page
        assert fake.requests == []  # nothing reached the vendor
    finally:
        fake.stop()


def test_a_polled_integration_records_the_guards_reason(cast, production):
    from fakes.datto import DattoFake
    from integrations.pollers import poll

    fake = DattoFake().start()
    try:
        integration = Integration.objects.create(
            account=cast.account_a, kind="datto", name="Datto", base_url=fake.url + "/v1",
            credentials={"public_key": fake.username, "secret_key": fake.secret},
        )
        poll(integration)
        integration.refresh_from_db()
        assert integration.last_sync_ok is False
        assert "Datto" in integration.last_error and "a loopback address" in integration.last_error
    finally:
        fake.stop()


def test_a_delivery_refused_by_the_guard_fails_at_once_with_the_reason(cast, production):
    fake = FAKES["connectwise"]().start()
    try:
        make_psa(cast.account_a, "connectwise", fake)
        make_appliance(cast.account_a, cast.org_a1, "silent", last_contact_at=NOW - timedelta(hours=1))
        evaluate(cast.account_a, NOW)
        assert deliver_all("connectwise") == ["failed"]  # retrying would meet the same refusal
        delivery = Delivery.objects.get(channel="connectwise")
        assert "127.0.0.1, a loopback address, which integrations may not reach" in delivery.last_error
        assert fake.requests == []
    finally:
        fake.stop()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_vendor_that_cannot_be_reached_is_explained_in_words_not_an_exception_name():
    with pytest.raises(http.VendorError) as refused:
        http.get_json(http.session(retries=0), f"http://127.0.0.1:{_closed_port()}/api", "Datto")
    message = str(refused.value)
    assert message.startswith("Datto could not be reached:")
    assert "Error" not in message and "the connection was refused or dropped" in message


def test_a_vendor_too_slow_to_answer_is_said_to_have_timed_out():
    with socket.socket() as silent:  # accepts, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/api"
        with pytest.raises(http.VendorError) as late:
            http.get_json(http.session(retries=0, timeout=(1, 0.2)), url, "Spanning")
    assert str(late.value) == "Spanning could not be reached: it did not answer in time."
