"""Sync faults on the server side and in time: a full disk, a locked database, clocks that
disagree, very long notes, and an app upgrade with unsent records. Each ends with every record
on the agency exactly once and nothing lost on the phone. Real servers, SQLite and PostgreSQL.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from fieldpeer.agency.settings import default
from fieldpeer.store import notes, outbox, people, sync_state, wrap
from fieldpeer.store.migrations import LATEST_VERSION, schema_version
from fieldpeer.store.profile import Profile
from fieldpeer.store.unit_of_work import FieldStore
from fieldpeer.domain import SafetyAnswer
from fieldpeer.sync.client import MAX_BATCH_BYTES, SyncClient
from fieldpeer.records import MAX_TEXT, Checkin, Narrative, Person, utc_now
from fieldpeer.sync.sealing import MAX_PLAINTEXT
from tests import figures
from tests.conftest import PIN, TEST_COST, complete_note, make_peer
from tests.servers import AgencyProcess
from tests.test_migrations import as_left_by_version_3
from tests.test_sync_integration import Admin, enrolled, enrolled_phone, no_sleep

DISK_FULL = {  # make every insert of a received record fail the way a full disk does
    "sqlite": ["CREATE TRIGGER disk_full BEFORE INSERT ON agency_received BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"],
    "postgresql": [
        "CREATE FUNCTION disk_full() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER disk_full BEFORE INSERT ON agency_received FOR EACH ROW EXECUTE FUNCTION disk_full()",
    ],
}
DISK_FREED = {"sqlite": ["DROP TRIGGER disk_full"], "postgresql": ["DROP TRIGGER disk_full ON agency_received", "DROP FUNCTION disk_full()"]}


def received_once(admin: Admin, record_ids: list[str]) -> bool:
    got = [r.record_id for r in admin.received() if r.record_id in set(record_ids)]
    return sorted(got) == sorted(record_ids)


def log_calls(store: FieldStore, person_id: str, count: int, start: datetime) -> list[str]:
    return [notes.log_phone_contact(store, person_id, 10, f"call {i}", ended_at=start + timedelta(hours=i)).id for i in range(count)]


def test_a_full_disk_on_the_server_loses_nothing(agency: AgencyProcess, tmp_path: Path) -> None:
    phone = enrolled_phone(agency, tmp_path)
    admin, store = phone.admin, phone.store
    ids = log_calls(store, phone.person_ids[0], 5, datetime(2026, 11, 24, 9))
    backend = admin.engine.dialect.name
    with admin.engine.begin() as conn:
        for statement in DISK_FULL[backend]:
            conn.execute(text(statement))
    waits: list[float] = []
    summary = SyncClient(store, sleep=waits.append, max_attempts=3).sync()
    assert "will retry" in summary.error and summary.pending == 5 and len(waits) == 2  # backed off, kept everything
    assert not received_once(admin, ids) and admin.received(record_type="contact_note") == []
    with admin.engine.begin() as conn:  # the operator frees space
        for statement in DISK_FREED[backend]:
            conn.execute(text(statement))
    assert SyncClient(store, sleep=no_sleep).sync().sent == 5
    assert received_once(admin, ids) and outbox.counts(store).pending == 0
    figures.add("server fault scenarios survived", 1)


def test_a_database_locked_for_seconds_delays_but_loses_nothing(tmp_path: Path) -> None:
    agency = AgencyProcess(f"sqlite:///{tmp_path / 'agency.db'}", tmp_path / "keys", tmp_path / "agency.log")
    agency.start()
    try:
        phone = enrolled_phone(agency, tmp_path)
        admin, store = phone.admin, phone.store
        ids = log_calls(store, phone.person_ids[0], 5, datetime(2026, 11, 24, 9))
        locker = sqlite3.connect(tmp_path / "agency.db", isolation_level=None, check_same_thread=False)
        locker.execute("BEGIN EXCLUSIVE")  # a backup tool or a long report holds the database
        release = threading.Timer(2.0, lambda: locker.execute("COMMIT"))
        release.start()
        started = time.monotonic()
        summary = SyncClient(store, sleep=no_sleep).sync()
        release.join()
        assert summary.ok and summary.sent == 5 and time.monotonic() - started >= 1.5  # it waited for the lock
        assert received_once(admin, ids)
        figures.add("server fault scenarios survived", 1)
    finally:
        agency.stop()


@pytest.mark.parametrize("skew", [timedelta(days=3), timedelta(days=-400)], ids=["phone-ahead-3-days", "phone-behind-400-days"])
def test_clock_skew_between_phone_and_server(agency: AgencyProcess, tmp_path: Path, skew: timedelta) -> None:
    """The phone's clock is wrong. Sync must not care: the server orders by its own clock and
    its cursor, never the phone's timestamps; tokens age by the server's clock."""
    phone = enrolled_phone(agency, tmp_path)
    admin, store, persons = phone.admin, phone.store, phone.person_ids
    phone_now = utc_now() + skew
    ids = log_calls(store, persons[0], 3, phone_now.replace(tzinfo=None))
    checkin, _ = wrap.record_checkin(store, Checkin(person_id=persons[0], occurred_at=phone_now.replace(tzinfo=None), safety=SafetyAnswer.NO))
    summary = SyncClient(store, sleep=no_sleep).sync()
    assert summary.ok and summary.sent == 4
    assert received_once(admin, [*ids, checkin.id])
    before = utc_now()
    assert all(r.received_at >= before - timedelta(minutes=5) for r in admin.received())  # server time, not the phone's
    figures.add("server fault scenarios survived", 1)


def test_very_long_notes_travel_in_batches_under_the_body_limit(agency: AgencyProcess, tmp_path: Path) -> None:
    assert MAX_BATCH_BYTES * 1.01 + 4096 < default("max_body_bytes") and MAX_BATCH_BYTES < default("max_push_plaintext") <= MAX_PLAINTEXT  # gzip never grows data by more than ~0.1%
    phone = enrolled_phone(agency, tmp_path)
    admin, store, persons = phone.admin, phone.store, phone.person_ids
    longest = "🙂 long narrative ✍️ " * (MAX_TEXT // 20)  # emoji: 4 bytes each in UTF-8
    longest = longest[:MAX_TEXT]
    ids = [
        notes.sign_note(store, notes.save_draft(store, complete_note(persons[0], start=datetime(2026, 11, 1, 9) + timedelta(days=i), narrative=Narrative(goal=longest, intervention=longest, response=longest, plan=longest))).id).id
        for i in range(12)
    ]
    sizes = []
    client = SyncClient(store, sleep=no_sleep, max_batch_bytes=250_000)  # each note is ~110 kB of JSON: 2 per batch
    real_seal = client._seal_batch
    client._seal_batch = lambda items: sizes.append(len(items)) or real_seal(items)  # type: ignore[method-assign]
    summary = client.sync()
    assert summary.ok and summary.sent == 12 and outbox.counts(store).pending == 0
    assert len(sizes) >= 6 and max(sizes) <= 2
    assert received_once(admin, ids)
    figures.add("server fault scenarios survived", 1)


def test_an_app_upgrade_sends_what_the_old_version_left_unsent(agency: AgencyProcess, tmp_path: Path) -> None:
    admin = Admin(agency.db_url)
    peer_id, persons, code = admin.peer_with_caseload("Pat", ["Quinn"])
    _, enrolled_store = enrolled(agency, tmp_path, code, "enrolment")
    credentials = {k: sync_state.get_value(enrolled_store, k) or "" for k in ("server_url", "device_id", "token", "device_box_key", "device_sign_key", "agency_box_key", "agency_sign_key")}
    enrolled_store.close()

    # The phone as the previous app version (schema 3, no search) left it: enrolled, with unsent records.
    profile = Profile(tmp_path / "phone", cost=TEST_COST)
    old = profile.set_up(PIN, make_peer().model_copy(update={"id": peer_id}))
    sync_state.set_values(old, credentials)
    with old.unit() as unit:
        people.receive_person(unit, Person(id=persons[0], preferred_name="Quinn"))
    ids = log_calls(old, persons[0], 4, datetime(2026, 11, 24, 9))
    as_left_by_version_3(old.engine)
    old.close()

    store = profile.unlock(PIN)  # the new version opens it and upgrades in place
    assert schema_version(store.engine) == LATEST_VERSION and outbox.counts(store).pending == 4
    summary = SyncClient(store, sleep=no_sleep).sync()
    assert [q.reason for q in outbox.quarantined(store)] == []
    assert summary.ok and summary.sent == 4 and received_once(admin, ids)
    figures.add("server fault scenarios survived", 1)


def test_a_phone_hanging_up_mid_upload_is_not_a_server_error(agency: AgencyProcess, tmp_path: Path) -> None:
    """Issue #17, finding 10: a client that loses its network half-way through a push was logged as
    an unexpected server error (hundreds of lines under network faults). It is nothing of the kind."""
    import socket

    phone = enrolled_phone(agency, tmp_path)
    for _ in range(5):
        with socket.create_connection(("127.0.0.1", agency.port), timeout=10) as conn:
            conn.sendall(
                b"POST /api/v1/push HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/vnd.fieldpeer.sealed\r\n"
                + f"Authorization: Bearer {phone.client.token}\r\nContent-Length: {1024 * 1024}\r\n\r\n".encode()
                + b"x" * (100 * 1024)
            )
            time.sleep(0.2)  # the server is reading the body when the phone goes under a bridge
    log_calls(phone.store, phone.person_ids[0], 2, datetime(2026, 11, 24, 9))
    assert SyncClient(phone.store, sleep=no_sleep).sync().sent == 2  # the server carries on
    agency.stop()
    log = agency.log_path.read_text(errors="replace")
    assert "unexpected" not in log and "Traceback" not in log, log[-2000:]
    figures.add("server fault scenarios survived", 1)
