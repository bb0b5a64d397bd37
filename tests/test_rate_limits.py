"""Rate limits (sign-in, enrolment per address and per code, unauthenticated requests) answered
429 in the API's error shape and access-logged, and the body limit on every route (declared or
streamed). Real agency server, limits set low through its settings' environment variables."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from fieldpeer.agency import service
from fieldpeer.agency.rate_limits import Buckets
from fieldpeer.agency.settings import ENV_PREFIX
from fieldpeer.agency.tables import AccessEvent
from fieldpeer.domain import PeerRole
from tests.servers import AgencyProcess
from tests.test_sync_integration import Admin
from tests.web_client import PageClient

LOW = {"SIGN_IN_PER_MINUTE": "3", "ENROL_PER_MINUTE": "4", "ENROL_CODE_ATTEMPTS": "2", "UNAUTHENTICATED_PER_MINUTE": "30", "MAX_FORM_BYTES": "1024"}


@pytest.fixture
def limited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AgencyProcess]:
    for name, value in LOW.items():
        monkeypatch.setenv(f"{ENV_PREFIX}{name}", value)  # the server process reads its settings from these
    process = AgencyProcess(f"sqlite:///{tmp_path / 'agency.db'}", tmp_path / "keys", tmp_path / "agency.log")
    process.start()
    yield process
    process.stop()


def assert_limited(response: httpx.Response) -> None:
    assert response.status_code == 429 and response.json()["code"] == "rate_limited" and response.headers["retry-after"] == "60"


def logged(db_url: str, action: str) -> list[str]:
    with Admin(db_url).session() as db:
        return [e.detail for e in db.exec(select(AccessEvent).where(AccessEvent.action == action, AccessEvent.outcome == "refused")).all()]


def test_sign_in_attempts_per_address_are_limited_and_logged(limited: AgencyProcess) -> None:
    with PageClient(limited.url) as browser:
        answers = [browser.sign_in("/supervisor", f"guess-{n}") for n in range(3)]
        assert [a.headers["location"] for a in answers] == ["/supervisor/login?error=1"] * 3
        assert_limited(browser.post("/supervisor/login", data={"token": "guess-4"}))
        assert_limited(browser.post("/admin/login", data={"token": "guess-5"}))  # one limit for both pages
    assert logged(limited.db_url, "sign_in") == ["rate_limited"]  # once per window, then counted


def test_enrolment_is_limited_per_code_and_per_address(limited: AgencyProcess) -> None:
    with Admin(limited.db_url).session() as db:
        peer = service.add_peer(db, "Pat Doe", PeerRole.PEER_SUPPORT_SPECIALIST, "CPSS")
        db.commit()
    body = {"code": "ABCD-EFGH", "device_name": "phone", "device_box_key": "eA==", "device_sign_key": "eQ=="}
    with httpx.Client(base_url=limited.url) as phone:
        first, second = (phone.post("/api/v1/enrol", json=body) for _ in range(2))
        assert first.json()["code"] == second.json()["code"] == "enrol_code_invalid"
        assert_limited(phone.post("/api/v1/enrol", json=body))  # the same code a third time
        assert phone.post("/api/v1/enrol", json=body | {"code": "WXYZ-2345"}).json()["code"] == "enrol_code_invalid"  # another code, 4th from this address
        assert_limited(phone.post("/api/v1/enrol", json=body | {"code": "JKLM-6789"}))  # the address's 5th
    assert logged(limited.db_url, "enrol_code") == ["rate_limited"] and logged(limited.db_url, "enrol")[-1] == "rate_limited"
    assert peer.id


def test_unauthenticated_requests_are_limited_but_known_callers_are_not(limited: AgencyProcess) -> None:
    with httpx.Client(base_url=limited.url) as stranger:
        answers = [stranger.get("/api/v1/health").status_code for _ in range(31)]
        refused = answers.index(429)  # the server's start-up health checks came from this address too
        assert refused >= 25 and set(answers[:refused]) == {200} and set(answers[refused:]) == {429}
        known = stranger.get("/api/v1/pull", headers={"Authorization": "Bearer made-up"})  # has a credential: refused for it, not limited
        assert known.status_code == 401


def test_bodies_over_the_limit_are_refused_declared_or_streamed(limited: AgencyProcess) -> None:
    with httpx.Client(base_url=limited.url) as client:
        declared = client.post("/supervisor/login", content=b"token=" + b"x" * 2000, headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert declared.status_code == 413 and declared.json()["code"] == "too_large"

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
            for _ in range(64):
                yield b"x" * 512

        streamed = client.post("/api/v1/enrol", content=chunks(), headers={"Content-Type": "application/json"})
        assert streamed.status_code == 413 and streamed.json()["code"] == "too_large"
        push = client.post("/api/v1/push", content=b"x" * 4096, headers={"Authorization": "Bearer made-up"})
        assert push.status_code == 401  # the push keeps its larger limit: refused for its token, not its size


def test_a_bucket_refills_over_a_minute() -> None:
    now = [0.0]
    buckets = Buckets(clock=lambda: now[0])
    assert [buckets.take("sign_in", "10.0.0.1", 2) for _ in range(3)] == [True, True, False]
    assert buckets.take("sign_in", "10.0.0.2", 2)  # another address has its own
    now[0] += 30.0  # half a minute: one request's worth back
    assert [buckets.take("sign_in", "10.0.0.1", 2) for _ in range(2)] == [True, False]
