"""Transport: the phone talks to the agency only over verified TLS 1.2+ (plain HTTP only on loopback).

A real agency server serves HTTPS with a certificate from a throwaway CA made by the test.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from fieldpeer.store import notes, outbox
from fieldpeer.store.profile import Profile
from fieldpeer.sync.client import UNTRUSTED, SyncClient, UntrustedServer, enrol_device
from fieldpeer.sync.transport import InsecureServer, agency_http, check_server_url, tls_context
from tests.conftest import PIN, TEST_COST
from tests.servers import AgencyProcess
from tests.test_sync_integration import Admin
from tests.tls_certs import TestCA


@pytest.fixture
def agency_ca(tmp_path: Path) -> TestCA:
    return TestCA(tmp_path / "pki", "agency")


@pytest.fixture
def tls_agency(tmp_path: Path, agency_ca: TestCA) -> Iterator[AgencyProcess]:
    issued = agency_ca.issue(["127.0.0.1", "localhost"])
    process = AgencyProcess(f"sqlite:///{tmp_path / 'agency.db'}", tmp_path / "keys", tmp_path / "agency.log", tls=(issued.cert, issued.key, agency_ca.pem))
    process.start()
    yield process
    process.stop()


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://agency.example.org", True),
        ("http://127.0.0.1:8700", True),
        ("http://localhost:8700/", True),
        ("http://[::1]:8700", True),
        ("http://agency.example.org", False),
        ("http://10.0.0.5:8700", False),  # the coffee shop's network is not this machine
        ("ftp://agency.example.org", False),
        ("https://", False),
        ("agency.example.org", False),
    ],
)
def test_plain_http_only_to_this_machine(url: str, allowed: bool) -> None:
    if allowed:
        assert check_server_url(url) == url.rstrip("/")
    else:
        with pytest.raises(InsecureServer, match="https://"):
            check_server_url(url)


def test_enrol_and_sync_over_https_with_the_agencys_certificate(tls_agency: AgencyProcess, agency_ca: TestCA, tmp_path: Path) -> None:
    admin = Admin(tls_agency.db_url)
    _, person_ids, code = admin.peer_with_caseload("Pat", ["Quinn"])
    with agency_http(ca_file=agency_ca.pem) as http:
        store = enrol_device(Profile(tmp_path / "phone", cost=TEST_COST), tls_agency.url, code, PIN, http=http)
        assert SyncClient(store, http=http).sync().pulled >= 1  # the caseload
        call = notes.log_phone_contact(store, person_ids[0], 12, "Over TLS", ended_at=datetime(2026, 11, 25, 9))
        summary = SyncClient(store, http=http).sync()
    assert summary.ok and summary.sent == 1
    assert [r.record_id for r in admin.received(record_type="contact_note")] == [call.id]


def test_a_certificate_the_phone_does_not_trust_is_refused_and_nothing_is_sent(tls_agency: AgencyProcess, agency_ca: TestCA, tmp_path: Path) -> None:
    admin = Admin(tls_agency.db_url)
    _, person_ids, code = admin.peer_with_caseload("Pat", ["Quinn"])
    impostor = TestCA(tmp_path / "impostor", "impostor")
    for http in (agency_http(ca_file=impostor.pem), agency_http()):  # another CA; the public CAs
        with pytest.raises(UntrustedServer, match="certificate could not be verified"):
            enrol_device(Profile(tmp_path / "refused", cost=TEST_COST), tls_agency.url, code, PIN, http=http)
    assert not (tmp_path / "refused" / "vault.json").exists()

    with agency_http(ca_file=agency_ca.pem) as trusted:  # closed: a kept-alive connection would hold the server's shutdown
        store = enrol_device(Profile(tmp_path / "phone", cost=TEST_COST), tls_agency.url, code, PIN, http=trusted)
        SyncClient(store, http=trusted).sync()
    notes.log_phone_contact(store, person_ids[0], 12, "Not for an impostor", ended_at=datetime(2026, 11, 25, 9))
    attempts: list[float] = []
    summary = SyncClient(store, http=agency_http(ca_file=impostor.pem), sleep=attempts.append).sync()
    assert summary.error == UNTRUSTED and attempts == []  # no retry loop against a wrong certificate
    assert outbox.counts(store).pending == 1 and admin.received(record_type="contact_note") == []


def test_a_certificate_for_another_host_is_refused(tmp_path: Path, agency_ca: TestCA) -> None:
    wrong_host = agency_ca.issue(["agency.example.org"], stem="other-host")
    process = AgencyProcess(f"sqlite:///{tmp_path / 'agency.db'}", tmp_path / "keys", tmp_path / "agency.log", tls=(wrong_host.cert, wrong_host.key, agency_ca.pem))
    process.start()
    try:
        with pytest.raises(UntrustedServer):
            enrol_device(Profile(tmp_path / "phone", cost=TEST_COST), process.url, "ABCD-EFGH", PIN, http=agency_http(ca_file=agency_ca.pem))
    finally:
        process.stop()


def _tls_server(ca: TestCA, minimum: ssl.TLSVersion, maximum: ssl.TLSVersion) -> tuple[int, threading.Thread]:
    """A bare TLS endpoint that speaks only the versions given (one handshake per connection)."""
    issued = ca.issue(["127.0.0.1"], stem=f"tls-{maximum.name}")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(issued.cert, issued.key)
    context.set_ciphers("ALL:@SECLEVEL=0")  # let OpenSSL speak the old protocol at all
    context.minimum_version, context.maximum_version = minimum, maximum
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        with listener:
            for _ in range(2):
                conn, _ = listener.accept()
                try:
                    with context.wrap_socket(conn, server_side=True) as tls:
                        tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
                except (ssl.SSLError, OSError):
                    conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener.getsockname()[1], thread


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # naming TLS 1.0/1.1 is deprecated, which is the point
def test_tls_older_than_1_2_is_refused_by_the_phone(agency_ca: TestCA) -> None:
    port, server = _tls_server(agency_ca, ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1)
    lenient = ssl.create_default_context(cafile=agency_ca.pem)
    lenient.set_ciphers("ALL:@SECLEVEL=0")
    lenient.minimum_version = ssl.TLSVersion.TLSv1
    with socket.create_connection(("127.0.0.1", port)) as raw, lenient.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        assert tls.version() == "TLSv1.1"  # the endpoint is real and answers an old client
    assert tls_context().minimum_version == ssl.TLSVersion.TLSv1_2
    with pytest.raises(Exception) as refused:
        agency_http(ca_file=agency_ca.pem).get(f"https://127.0.0.1:{port}/")
    assert "PROTOCOL_VERSION" in str(refused.value).upper() or "UNSUPPORTED_PROTOCOL" in str(refused.value).upper()
    server.join(timeout=5)


def test_tls_1_2_is_accepted(agency_ca: TestCA) -> None:
    port, server = _tls_server(agency_ca, ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2)
    assert agency_http(ca_file=agency_ca.pem).get(f"https://127.0.0.1:{port}/").text == "ok"


def test_a_captive_portals_redirect_is_not_followed_with_the_phones_token() -> None:
    """The phone reports "sign in" and never fetches the portal's page with its bearer token."""
    import http.server

    from fieldpeer.sync.client import is_sign_in_page

    hits: list[str] = []

    class Portal(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            hits.append(self.path)
            if self.path.startswith("/api/"):
                self.send_response(302)
                self.send_header("Location", f"http://127.0.0.1:{self.server.server_address[1]}/login")
            else:
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    portal = http.server.HTTPServer(("127.0.0.1", 0), Portal)
    threading.Thread(target=portal.serve_forever, daemon=True).start()
    try:
        with agency_http() as http_client:
            response = http_client.get(f"http://127.0.0.1:{portal.server_address[1]}/api/v1/pull", headers={"Authorization": "Bearer secret"})
    finally:
        portal.shutdown()
    assert is_sign_in_page(response) and hits == ["/api/v1/pull"]
