"""Access control: every route of the agency API, tried with no token, a made-up token, a revoked
device's token, an expired token and another device's token. All refused, with a clear code and
no stack trace, and every refusal written to the access log (a stranger's once per route, reason and
minute, then counted: see test_strangers_cannot_grow_the_access_log). On SQLite and PostgreSQL.

Routes are read from the server's own OpenAPI document, so a route added later without
authentication fails this test until it is consciously listed as public.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import func, select

from fieldpeer.agency import service
from fieldpeer.agency.tables import AccessEvent, Device
from fieldpeer.store import notes, outbox
from fieldpeer.sync.client import SyncClient
from fieldpeer.records import utc_now
from fieldpeer.sync.sealing import SealError, open_seal
from fieldpeer.sync.wire import SEALED_MEDIA_TYPE, pull_context
from tests.servers import AgencyProcess
from tests.test_sync_integration import Admin, enrolled, enrolled_phone, no_sleep

PUBLIC = {("get", "/api/v1/health"), ("post", "/api/v1/enrol")}  # enrol is guarded by its one-time code
DEVICE_ROUTES = {("post", "/api/v1/push"), ("get", "/api/v1/pull")}
SUPERVISOR_ROUTES = {  # a device's token is not a supervisor's: refused like any stranger's
    ("get", "/api/v1/review/queue"),
    ("post", "/api/v1/review/notes/{note_id}/cosign"),
    ("post", "/api/v1/review/notes/{note_id}/return"),
    ("post", "/api/v1/review/alerts/{alert_id}/acknowledge"),
    ("post", "/api/v1/review/alerts/{alert_id}/close"),
    ("post", "/api/v1/exports/billing"),
    ("post", "/api/v1/exports/fhir"),
}


def operations(agency: AgencyProcess) -> set[tuple[str, str]]:
    spec = httpx.get(f"{agency.url}/openapi.json").json()
    return {(method, path) for path, item in spec["paths"].items() for method in item}


def refusals(admin: Admin) -> int:
    with admin.session() as db:
        return db.exec(select(func.count()).select_from(AccessEvent).where(AccessEvent.outcome == "refused")).one()


def call(agency: AgencyProcess, method: str, path: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    if method == "post":
        headers["Content-Type"] = SEALED_MEDIA_TYPE
    return httpx.request(method.upper(), f"{agency.url}{path}", headers=headers, content=b"sealed?" if method == "post" else None)


def test_every_route_refuses_bad_credentials_and_logs_it(agency: AgencyProcess, tmp_path: Path) -> None:
    admin = Admin(agency.db_url)
    peer, _, _ = admin.peer_with_caseload("Pat", ["Quinn"])
    devices = {}
    for name in ("revoked", "expired"):
        with admin.session() as db:
            code = service.create_enrol_code(db, peer)
            db.commit()
        profile, store = enrolled(agency, tmp_path, code, name)
        devices[name] = SyncClient(store, sleep=no_sleep, on_revoked=profile.wipe)
        devices[name].sync()
    with admin.session() as db:
        service.revoke_device(db, devices["revoked"].device_id)
        expired = db.get(Device, devices["expired"].device_id)
        assert expired is not None
        expired.last_seen_at = utc_now() - timedelta(days=91)  # a phone left in a drawer since summer
        db.add(expired)
        db.commit()

    protected = operations(agency) - PUBLIC
    assert protected == DEVICE_ROUTES | SUPERVISOR_ROUTES, "a new route: add it here once it checks its caller"
    expected = {
        "no token": (None, 401, "unauthenticated"),
        "made-up token": ("x" * 43, 401, "unauthenticated"),
        "revoked device": (devices["revoked"].token, 403, "device_revoked"),
        "expired token": (devices["expired"].token, 401, "token_expired"),
    }
    for (method, path) in sorted(protected):
        for case, (token, status, code) in expected.items():
            if (method, path) in SUPERVISOR_ROUTES:
                status, code = 401, "unauthenticated"
            before = refusals(admin)
            response = call(agency, method, path.replace("{note_id}", "n-1").replace("{alert_id}", "a-1"), token)
            assert (response.status_code, response.json()["code"]) == (status, code), f"{method} {path} with {case}"
            assert "Traceback" not in response.text and "File \"" not in response.text
            # A device token on a supervisor route is a stranger's token: its kind was logged just before (made-up token).
            tallied = (method, path) in SUPERVISOR_ROUTES and case in ("revoked device", "expired token")
            assert refusals(admin) == before + (0 if tallied else 1), f"{method} {path} with {case} was not logged"


def test_another_devices_token_is_useless_without_that_devices_keys(agency: AgencyProcess, tmp_path: Path) -> None:
    """A thief who copies device B's token (not its keys) from a proxy log can neither write as B
    nor read what the agency sends B."""
    admin = Admin(agency.db_url)
    peer, persons, code_a = admin.peer_with_caseload("Pat", ["Quinn"])
    with admin.session() as db:
        code_b = service.create_enrol_code(db, peer)
        db.commit()
    a = SyncClient(enrolled(agency, tmp_path, code_a, "a")[1], sleep=no_sleep)
    b = SyncClient(enrolled(agency, tmp_path, code_b, "b")[1], sleep=no_sleep)
    a.sync(), b.sync()
    call_note = notes.log_phone_contact(a.store, persons[0], 5, "sent with a stolen token", ended_at=datetime(2026, 11, 25, 9))
    before = refusals(admin)
    stolen = {"Authorization": f"Bearer {b.token}", "Content-Type": SEALED_MEDIA_TYPE}
    response = httpx.post(f"{agency.url}/api/v1/push", headers=stolen, content=a._seal_batch(outbox.next_batch(a.store, 10)))
    assert response.status_code == 400 and response.json()["code"] == "bad_seal"
    assert refusals(admin) == before + 1
    assert [r for r in admin.received(record_type="contact_note") if r.record_id == call_note.id] == []

    pulled = httpx.get(f"{agency.url}/api/v1/pull", headers={"Authorization": f"Bearer {b.token}"})
    assert pulled.status_code == 200
    with pytest.raises(SealError):  # sealed to B's key, which the thief does not have
        open_seal(pulled.content, recipient=a.keys, sender_sign=a.agency_sign, context=pull_context(a.device_id))


def test_an_expired_phone_keeps_its_unsent_records(agency: AgencyProcess, tmp_path: Path) -> None:
    phone = enrolled_phone(agency, tmp_path)
    profile, store, client = phone.profile, phone.store, phone.client
    with phone.admin.session() as db:
        device = db.get(Device, client.device_id)
        assert device is not None
        device.last_seen_at = utc_now() - timedelta(days=120)
        db.add(device)
        db.commit()
    notes.log_phone_contact(store, phone.person_ids[0], 5, "written offline", ended_at=datetime(2026, 11, 25, 9))
    summary = client.sync()
    assert "enrol it again" in summary.error and "kept on this phone" in summary.error
    assert profile.is_set_up and outbox.counts(store).pending == 1  # not wiped: only revocation wipes


def test_strangers_cannot_grow_the_access_log(agency_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue #17, finding 8: each refusal of an unknown caller wrote a row, so anyone could grow the
    agency's database. Now the first refusal per route and reason in a window is written, the rest
    are counted and written as one row when the next window opens: every refusal is accounted
    for, in a handful of rows. Known devices (revoked, expired) are still logged every time."""
    import math
    import time

    window = 3.0
    for name in ("ENROL_PER_MINUTE", "ENROL_CODE_ATTEMPTS"):  # the tally is measured here, not the rate limits (tests/test_rate_limits.py)
        monkeypatch.setenv(f"FIELDPEER_AGENCY_SETTING_{name}", "1000")
    server = AgencyProcess(agency_db_url, tmp_path / "keys", tmp_path / "agency.log", options=("--refusal-log-seconds", str(window)))
    server.start()
    try:
        admin = Admin(agency_db_url)
        before = refusals(admin)
        with httpx.Client(base_url=server.url) as http:
            began = time.monotonic()
            for _ in range(150):
                assert http.get("/api/v1/pull").status_code == 401
                assert http.get("/api/v1/pull", headers={"Authorization": "Bearer made-up"}).status_code == 401
                assert http.post("/api/v1/enrol", json={"code": "AAAA-BBBB-CCCC", "device_box_key": "x", "device_sign_key": "y"}).status_code == 403
            windows = math.ceil((time.monotonic() - began) / window)
            # Three kinds (pull without a token, with a made-up one, enrol with a bad code): a row each per window.
            assert refusals(admin) - before <= 3 * 2 * windows < 450
            time.sleep(window + 0.2)  # the next window: the counts are written
            assert http.get("/api/v1/pull").status_code == 401
            assert http.get("/api/v1/pull", headers={"Authorization": "Bearer made-up"}).status_code == 401
        with admin.session() as db:
            details = [e.detail for e in db.exec(select(AccessEvent).where(AccessEvent.outcome == "refused", AccessEvent.action == "pull")).all()]
        counted = sum(int(d.rsplit(":", 1)[1]) for d in details if "_repeats:" in d)
        assert details.count("unauthenticated") + counted == 302  # every refusal, as a row or in a count
        assert counted >= 250 and any(d.startswith("no_token_repeats:") for d in details) and any(d.startswith("unknown_token_repeats:") for d in details)
    finally:
        server.stop()
