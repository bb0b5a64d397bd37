"""Device <-> agency sync against a real server process, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from fieldpeer.agency import service
from fieldpeer.agency.database import migrate_agency, open_agency_engine
from fieldpeer.agency.tables import AccessEvent, ReceivedRecord
from fieldpeer.domain import NoteStatus, PeerRole, SafetyAnswer, Zone
from fieldpeer.store import notes, outbox, people, wrap
from fieldpeer.store.profile import Profile
from fieldpeer.store.unit_of_work import FieldStore
from fieldpeer.sync.client import SyncClient, SyncError, enrol_device
from fieldpeer.records import Checkin, Person, WrapPlan
from tests.conftest import PIN, TEST_COST, complete_note
from tests.servers import AgencyProcess


class Admin:
    """The agency's side of a test: what an administrator or supervisor would do."""

    def __init__(self, db_url: str) -> None:
        self.engine = open_agency_engine(db_url)
        migrate_agency(self.engine)

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def peer_with_caseload(self, name: str, persons: list[str]) -> tuple[str, list[str], str]:
        with self.session() as db:
            peer = service.add_peer(db, name, PeerRole.PEER_SUPPORT_SPECIALIST, "CPSS")
            db.flush()
            ids = [service.add_person(db, peer.id, Person(preferred_name=p, admitted_on=date(2026, 10, 1))).id for p in persons]
            code = service.create_enrol_code(db, peer.id)
            db.commit()
        return peer.id, ids, code

    def received(self, **filters: str) -> list[ReceivedRecord]:
        with self.session() as db:
            return service.received_records(db, **filters)


def enrolled(agency: AgencyProcess, tmp_path: Path, code: str, name: str = "device") -> tuple[Profile, FieldStore]:
    profile = Profile(tmp_path / name, cost=TEST_COST)
    store = enrol_device(profile, agency.url, code, PIN, device_name=name)
    return profile, store


def no_sleep(_: float) -> None:
    pass


@dataclass
class Phone:
    """A peer with a caseload on the agency, and their enrolled phone with the caseload pulled."""

    admin: Admin
    peer_id: str
    person_ids: list[str]
    profile: Profile
    store: FieldStore
    client: SyncClient


def enrolled_phone(agency: AgencyProcess, tmp_path: Path, persons: tuple[str, ...] = ("Quinn",)) -> Phone:
    admin = Admin(agency.db_url)
    peer_id, person_ids, code = admin.peer_with_caseload("Pat", list(persons))
    profile, store = enrolled(agency, tmp_path, code)
    client = SyncClient(store, sleep=no_sleep, on_revoked=profile.wipe)
    client.sync()
    return Phone(admin, peer_id, person_ids, profile, store, client)


def test_enrol_pull_push_end_to_end(agency: AgencyProcess, tmp_path: Path) -> None:
    admin = Admin(agency.db_url)
    peer_id, person_ids, code = admin.peer_with_caseload("Sam", ["Alex", "Robin"])
    profile, store = enrolled(agency, tmp_path, code)
    client = SyncClient(store, sleep=no_sleep)

    first = client.sync()
    assert first.ok and first.pulled == 2
    caseload = people.list_caseload(store, date(2026, 11, 25))
    assert sorted(e.preferred_name for e in caseload.entries) == ["Alex", "Robin"]

    note = notes.sign_note(store, notes.save_draft(store, complete_note(person_ids[0])).id)
    notes.add_addendum(store, note.id, "Follow-up: housing form sent.")
    notes.log_phone_contact(store, person_ids[1], 10, "Check-in call.", ended_at=datetime(2026, 11, 25, 9))
    wrap.record_checkin(store, Checkin(person_id=person_ids[1], zone=Zone.EARLY_WARNING, safety=SafetyAnswer.YES))
    progress: list[tuple[int, int]] = []
    summary = client.sync(lambda done, total: progress.append((done, total)))
    # The draft (v1) was superseded by the signed note (v2) before sending: 5 records travel.
    assert summary.ok and summary.sent == 5 and summary.pending == 0 and summary.quarantined == 0
    assert progress[-1] == (5, 5)

    received = admin.received(peer_id=peer_id)
    assert Counter(r.record_type for r in received) == Counter({"contact_note": 2, "addendum": 1, "checkin": 1, "safety_alert": 1})
    assert received[0].record_type == "safety_alert"  # urgent first
    signed = [r for r in received if r.record_id == note.id and r.version == 2][0]
    assert "housing" not in signed.payload and "Reviewed the lease together." in signed.payload

    again = client.sync()
    assert again.sent == 0 and again.pending == 0
    assert len(admin.received(peer_id=peer_id)) == 5
    store.close()


def test_a_rejected_record_is_quarantined_and_does_not_block_the_rest(agency: AgencyProcess, tmp_path: Path) -> None:
    admin = Admin(agency.db_url)
    _, mine, code = admin.peer_with_caseload("Sam", ["Alex"])
    _, theirs, _ = admin.peer_with_caseload("Other", ["Not yours"])
    _, store = enrolled(agency, tmp_path, code)
    client = SyncClient(store, sleep=no_sleep)
    client.sync()
    # A person id that belongs to another peer's caseload (e.g. typed in by mistake on an old build).
    people.save_person(store, Person(id=theirs[0], preferred_name="Someone else's"))
    notes.log_phone_contact(store, mine[0], 5, "ok", ended_at=datetime(2026, 11, 25, 9))
    summary = client.sync()
    assert summary.quarantined == 1 and summary.sent == 1 and summary.pending == 0
    [item] = outbox.quarantined(store)
    assert item.record_id == theirs[0] and item.reason.startswith("not_your_caseload")
    assert [r.record_type for r in admin.received(record_type="person")] == []
    store.close()


def test_revoked_device_is_refused_and_wipes_itself(agency: AgencyProcess, tmp_path: Path) -> None:
    admin = Admin(agency.db_url)
    _, person_ids, code = admin.peer_with_caseload("Sam", ["Alex"])
    profile, store = enrolled(agency, tmp_path, code)
    client = SyncClient(store, sleep=no_sleep, on_revoked=profile.wipe)
    client.sync()
    with admin.session() as db:
        device_id = client.device_id
        service.revoke_device(db, device_id)
        db.commit()
    notes.log_phone_contact(store, person_ids[0], 5, "after revocation", ended_at=datetime(2026, 11, 25, 9))
    summary = client.sync()
    assert not summary.ok and "no longer enrolled" in summary.error
    assert not profile.is_set_up and not profile.database_path.exists()
    assert not (profile.root / "device.key").exists()
    assert admin.received(record_type="contact_note") == []


def test_enrol_codes_are_one_time(agency: AgencyProcess, tmp_path: Path) -> None:
    admin = Admin(agency.db_url)
    _, _, code = admin.peer_with_caseload("Sam", [])
    enrolled(agency, tmp_path, code, "first")[1].close()
    with pytest.raises(SyncError, match="not valid"):
        enrolled(agency, tmp_path, code, "second")
    with pytest.raises(SyncError, match="not valid"):
        enrolled(agency, tmp_path, "ABCD-EFGH-JKMN", "third")


def test_peers_cannot_see_or_write_each_others_persons(agency: AgencyProcess, tmp_path: Path) -> None:
    """Every route with another peer's token, and with no or a bad token."""
    admin = Admin(agency.db_url)
    _, a_persons, a_code = admin.peer_with_caseload("A", ["A's person"])
    _, b_persons, b_code = admin.peer_with_caseload("B", ["B's person"])
    _, a_store = enrolled(agency, tmp_path, a_code, "a")
    _, b_store = enrolled(agency, tmp_path, b_code, "b")
    a, b = SyncClient(a_store, sleep=no_sleep), SyncClient(b_store, sleep=no_sleep)
    a.sync(), b.sync()
    # pull: each sees only their own caseload
    assert [e.person_id for e in people.list_caseload(a_store, date(2026, 11, 25)).entries] == a_persons
    assert [e.person_id for e in people.list_caseload(b_store, date(2026, 11, 25)).entries] == b_persons
    # push: A writing about B's person is refused (note, check-in, plan, person update)
    with a_store.unit() as unit:
        people.receive_person(unit, Person(id=b_persons[0], preferred_name="B's person"))
    notes.log_phone_contact(a_store, b_persons[0], 5, "x", ended_at=datetime(2026, 11, 25, 9))
    wrap.record_checkin(a_store, Checkin(person_id=b_persons[0], safety=SafetyAnswer.NO))
    wrap.save_wrap_plan(a_store, WrapPlan(person_id=b_persons[0]), based_on_version=None)
    summary = a.sync()
    assert summary.quarantined == 3 and summary.sent == 0
    assert all(q.reason.startswith("not_your_caseload") for q in outbox.quarantined(a_store))
    # No token, a bad token: refused on every authenticated route, and logged.
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        assert httpx.get(f"{agency.url}/api/v1/pull", headers=headers).status_code == 401
        assert httpx.post(f"{agency.url}/api/v1/push", headers=headers, content=b"x").status_code == 401
    with admin.session() as db:
        refusals = db.exec(select(AccessEvent).where(AccessEvent.outcome == "refused")).all()
    assert len(refusals) >= 4
    a_store.close(), b_store.close()


def test_bad_input_gets_a_clear_refusal_and_one_bad_record_is_rejected_alone(agency: AgencyProcess, tmp_path: Path) -> None:
    from fieldpeer.store.outbox import OutboxItem
    from fieldpeer.records import new_id
    from fieldpeer.sync.wire import EntryStatus

    admin = Admin(agency.db_url)
    _, person_ids, code = admin.peer_with_caseload("Sam", ["Alex"])
    _, store = enrolled(agency, tmp_path, code)
    client = SyncClient(store, sleep=no_sleep)
    client.sync()
    headers = {"Authorization": f"Bearer {client.token}"}

    tampered = bytearray(client._seal_batch([]))
    tampered[-1] ^= 1
    response = httpx.post(f"{agency.url}/api/v1/push", headers=headers, content=bytes(tampered))
    assert response.status_code == 400 and response.json()["code"] == "bad_seal"
    response = httpx.post(f"{agency.url}/api/v1/push", headers=headers, content=b"x" * (17 * 1024 * 1024))
    assert response.status_code == 413 and "MiB" in response.json()["message"]

    good = complete_note(person_ids[0]).model_copy(update={"status": NoteStatus.SIGNED})
    bad = good.model_dump(mode="json") | {"id": new_id(), "ends_at": "2020-01-01T00:00:00", "narrative": {"intervention": "MARKER-SECRET"}}
    items = [
        OutboxItem(0, new_id(), "contact_note", good.id, good.model_dump_json()),
        OutboxItem(0, new_id(), "contact_note", bad["id"], json.dumps(bad)),
    ]
    receipt = client._post(client._seal_batch(items))
    assert [r.status for r in receipt.results] == [EntryStatus.STORED, EntryStatus.REJECTED]
    assert receipt.results[1].reason.startswith("invalid:") and "MARKER" not in receipt.results[1].reason
    assert [r.record_id for r in admin.received(record_type="contact_note")] == [good.id]
    store.close()


def test_two_server_processes_share_one_database(agency: AgencyProcess, tmp_path: Path) -> None:
    """Stateless servers behind a load balancer: a retry may land on another process."""
    from fieldpeer.store import sync_state

    second = AgencyProcess(agency.db_url, agency.key_dir, tmp_path / "second.log")
    second.start()
    try:
        admin = Admin(agency.db_url)
        _, person_ids, code = admin.peer_with_caseload("Sam", ["Alex"])
        _, store = enrolled(agency, tmp_path, code)
        SyncClient(store, sleep=no_sleep).sync()
        notes.log_phone_contact(store, person_ids[0], 5, "first", ended_at=datetime(2026, 11, 25, 9))
        assert SyncClient(store, sleep=no_sleep).sync().sent == 1
        sync_state.set_values(store, {"server_url": second.url})
        notes.log_phone_contact(store, person_ids[0], 5, "second", ended_at=datetime(2026, 11, 25, 10))
        assert SyncClient(store, sleep=no_sleep).sync().sent == 1
        assert len(admin.received(record_type="contact_note")) == 2
        store.close()
    finally:
        second.stop()


@pytest.mark.slow
def test_auto_sync_sends_when_the_agency_comes_back(agency: AgencyProcess, tmp_path: Path) -> None:
    import time

    from fieldpeer.sync.client import AutoSync

    admin = Admin(agency.db_url)
    _, person_ids, code = admin.peer_with_caseload("Sam", ["Alex"])
    _, store = enrolled(agency, tmp_path, code)
    client = SyncClient(store, sleep=no_sleep, max_attempts=1)
    client.sync()
    agency.kill()  # the phone loses signal
    summaries = []
    auto = AutoSync(client, interval=0.2, on_summary=summaries.append)
    auto.start()
    try:
        notes.log_phone_contact(store, person_ids[0], 5, "while offline", ended_at=datetime(2026, 11, 25, 9))
        time.sleep(1.0)
        assert outbox.counts(store).pending == 1 and summaries == []
        agency.start()  # back online
        deadline = time.monotonic() + 20
        while outbox.counts(store).pending and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        auto.stop()
    assert outbox.counts(store).pending == 0 and summaries and summaries[-1].ok
    assert len(admin.received(record_type="contact_note")) == 1
    store.close()


def test_headless_sync_command(agency: AgencyProcess, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    admin = Admin(agency.db_url)
    _, _, code = admin.peer_with_caseload("Sam", ["Alex"])
    profile = Profile(tmp_path / "device")  # the real scrypt cost: the command opens it normally
    store = enrol_device(profile, agency.url, code, PIN)
    people.save_person(store, Person(preferred_name="Walk-in"))  # to push; Alex is still to pull
    store.close()
    env = {**os.environ, "FIELDPEER_PIN": PIN}
    result = subprocess.run([sys.executable, "-m", "fieldpeer.cli", "sync", "--profile", str(profile.root)], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "sent 1," in result.stdout and "pending 0" in result.stdout and "pulled 1" in result.stdout
    wrong = subprocess.run([sys.executable, "-m", "fieldpeer.cli", "sync", "--profile", str(profile.root)], capture_output=True, text=True, env={**env, "FIELDPEER_PIN": "000111"}, timeout=120)
    assert wrong.returncode == 1 and "Wrong PIN." in wrong.stderr


def test_the_unlocked_app_sends_what_is_saved_without_being_asked(agency: AgencyProcess, tmp_path: Path) -> None:
    from fieldpeer.screens.session import FieldSession

    admin = Admin(agency.db_url)
    _, person_ids, code = admin.peer_with_caseload("Pat Peer", ["Quinn"])
    session = FieldSession(Profile(tmp_path / "phone", cost=TEST_COST), auto_sync_seconds=0.2)
    session.enrol(agency.url, code, PIN, PIN)
    try:
        assert [e.person_id for e in people.list_caseload(session.store, date(2026, 11, 25)).entries] == person_ids  # pulled at enrolment
        call = notes.log_phone_contact(session.store, person_ids[0], 10, "Auto-sync call", ended_at=datetime(2026, 11, 25, 9, 0))
        deadline = time.monotonic() + 30
        while not [r for r in admin.received(record_type="contact_note") if r.record_id == call.id]:
            assert time.monotonic() < deadline, "the call never reached the agency"
            time.sleep(0.1)
        while session.pending().pending:  # the receipt settles the outbox right after the server stored it
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert len([r for r in admin.received(record_type="contact_note") if r.record_id == call.id]) == 1
    finally:
        session.lock()
    assert not any(t.name == "fieldpeer-autosync" and t.is_alive() for t in threading.enumerate())  # locking stops it
