"""The phone follows the agency's changes (a person moved to another peer, the peer's own profile
edited) and keeps its agency address and keys tamper-proof (issue #13). Against a real agency."""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import Iterator
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import text

from fieldpeer.agency import admin, service
from fieldpeer.domain import DraftKind, PeerRole, SafetyAnswer, Zone
from fieldpeer.records import Checkin
from fieldpeer.screens.sync_view import readable
from fieldpeer.store import drafts, notes, outbox, people, search, sync_state, wrap
from fieldpeer.store.profile import get_peer_profile
from fieldpeer.store.sync_state import TamperedSetting
from fieldpeer.store.unit_of_work import FieldStore
from fieldpeer.sync.client import SyncClient
from tests.conftest import complete_note
from tests.servers import AgencyProcess
from tests.test_admin import an_admin
from tests.test_no_plaintext import MARKER, marker_hits
from tests.test_sync_integration import Phone, enrolled_phone, no_sleep

TODAY = date(2026, 11, 25)
# Every table that holds rows about a person, and the column naming them.
ABOUT_PERSON = {
    "person": "id", "contact_note": "person_id", "checkin": "person_id", "safety_alert": "person_id", "alert_status": "person_id",
    "wrap_plan": "person_id", "consent": "person_id", "outreach_attempt": "person_id", "form_draft": "person_id",
}


def rows_about(store: FieldStore, person_id: str) -> dict[str, int]:
    """How many rows each table holds about the person (outbox entries by the record ids seen)."""
    with store.engine.connect() as conn:
        found = {t: conn.execute(text(f"SELECT count(*) FROM {t} WHERE {c} = :p"), {"p": person_id}).scalar_one() for t, c in ABOUT_PERSON.items()}
    return {t: n for t, n in found.items() if n}


def outbox_rows(store: FieldStore, record_ids: list[str]) -> list[tuple[str, str]]:
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT record_id, state FROM outbox")).all()
    return [(r, s) for r, s in rows if r in record_ids]


def move(phone: Phone, person_id: str, to_peer: str) -> None:
    with phone.admin.session() as db:
        admin.reassign_person(db, an_admin(phone.admin), person_id, to_peer)
        db.commit()


def another_peer(phone: Phone) -> str:
    with phone.admin.session() as db:
        kim = service.add_peer(db, "Kim Ortiz", PeerRole.RECOVERY_COACH, "CPRC")
        db.commit()
    return kim.id


def test_a_person_moved_to_another_peer_is_hidden_at_once_and_what_waits_is_sent_then_quarantined(agency: AgencyProcess, tmp_path: Path) -> None:
    phone = enrolled_phone(agency, tmp_path, ("Quinn", "Rowan"))
    quinn, rowan = phone.person_ids
    signed = notes.sign_note(phone.store, notes.save_draft(phone.store, complete_note(quinn)).id)
    assert phone.client.sync().sent == 1
    kim = another_peer(phone)
    move(phone, quinn, kim)
    late = notes.log_phone_contact(phone.store, quinn, 10, "Talked about the bus pass.", ended_at=datetime(2026, 11, 25, 9))  # before the phone knows

    assert phone.client.pull() >= 1  # the agency's "no longer yours"
    assert [e.preferred_name for e in people.list_caseload(phone.store, TODAY).entries] == ["Rowan"]
    assert people.list_caseload(phone.store, TODAY, search="Quinn").entries == []
    with pytest.raises(people.NotFound):
        people.get_person(phone.store, quinn)
    with pytest.raises(people.NotFound):  # nothing new can be written about them
        notes.log_phone_contact(phone.store, quinn, 5, "Another call.", ended_at=datetime(2026, 11, 25, 10))
    word = sorted(search.words(signed.narrative.intervention))[0]
    assert search.search_notes(phone.store, word).hits == []
    assert outbox_rows(phone.store, [late.id]) == [(late.id, outbox.PENDING)]  # nothing the peer wrote is lost

    summary = phone.client.sync()  # still sent; the agency refuses it as another peer's caseload now
    assert (summary.sent, summary.quarantined) == (0, 1)
    [held] = outbox.quarantined(phone.store)
    assert held.record_id == late.id and readable(held.reason).startswith("this person is not on your caseload")
    assert rows_about(phone.store, quinn)["contact_note"] == 2  # kept (hidden) while the peer has a reason to see
    assert phone.admin.received(record_type="contact_note", peer_id=phone.peer_id)[0].record_id == signed.id

    move(phone, quinn, phone.peer_id)  # assigned back: a newer version brings the person back
    phone.client.sync()
    assert sorted(e.preferred_name for e in people.list_caseload(phone.store, TODAY).entries) == ["Quinn", "Rowan"]
    assert [h.note_id for h in search.search_notes(phone.store, word).hits] == [signed.id]
    phone.store.close()


def test_once_everything_about_the_moved_person_reached_the_agency_the_phone_keeps_nothing_about_them(agency: AgencyProcess, tmp_path: Path) -> None:
    phone = enrolled_phone(agency, tmp_path, ("Quinn", "Rowan"))
    quinn, rowan = phone.person_ids
    store = phone.store
    signed = notes.sign_note(store, notes.save_draft(store, complete_note(quinn)).id)
    notes.add_addendum(store, signed.id, "Follow-up: housing form sent.")
    checkin, alert = wrap.record_checkin(store, Checkin(person_id=quinn, zone=Zone.EARLY_WARNING, safety=SafetyAnswer.UNSURE))
    notes.log_phone_contact(store, rowan, 10, "Rowan's call.", ended_at=datetime(2026, 11, 25, 9))
    assert phone.client.sync().sent >= 5
    drafts.save_form_draft(store, DraftKind.CHECKIN, quinn, {"feeling_today": "typing, not saved"})
    ids = [quinn, signed.id, checkin.id] + ([alert.id] if alert else [])
    assert rows_about(store, quinn) and outbox_rows(store, ids)

    move(phone, quinn, another_peer(phone))
    summary = phone.client.sync()
    assert summary.ok and summary.quarantined == 0
    assert rows_about(store, quinn) == {}  # person, notes, check-in, alert, draft: gone
    assert outbox_rows(store, ids) == []  # and the sent copies of them
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM addendum")).scalar_one() == 0
    assert [e.preferred_name for e in people.list_caseload(store, TODAY).entries] == ["Rowan"]
    assert people.person_timeline(store, rowan)  # the rest of the caseload untouched
    assert {r.record_id for r in phone.admin.received(peer_id=phone.peer_id)} >= {signed.id, checkin.id}  # it all reached the agency first

    move(phone, quinn, phone.peer_id)
    phone.client.sync()
    assert people.get_person(store, quinn).preferred_name == "Quinn"
    store.close()


def test_an_administrators_edit_of_the_peer_reaches_the_phone_encrypted(agency: AgencyProcess, tmp_path: Path) -> None:
    phone = enrolled_phone(agency, tmp_path)
    before = get_peer_profile(phone.store)
    with phone.admin.session() as db:
        admin.edit_peer(db, an_admin(phone.admin), phone.peer_id, name=f"Pat {MARKER}", credentials="CPSS, CPRC", role=PeerRole.PEER_SUPPORT_SPECIALIST, team_id=None, experience=[])
        db.commit()
    assert phone.client.sync().pulled >= 1
    after = get_peer_profile(phone.store)
    assert (after.name, after.credentials, after.agency_name) == (f"Pat {MARKER}", "CPSS, CPRC", before.agency_name)
    phone.store.close()
    assert not marker_hits(phone.profile.root)


# --- Issue #13: a write to the phone's database cannot redirect its next sync -----------------------


class Listener(BaseHTTPRequestHandler):
    """An attacker's server: it only counts what reaches it."""

    hits: list[str] = []

    def _any(self) -> None:
        Listener.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    do_GET = do_POST = _any

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def attacker() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Listener)
    Listener.hits = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def overwrite(store: FieldStore, key: str, value: str) -> None:
    """What an attacker with write access to the database file does (no key, plain SQL)."""
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE sync_state SET value = :v WHERE key = :k"), {"v": value, "k": key})


def stored(store: FieldStore, key: str) -> str:
    with store.engine.connect() as conn:
        return str(conn.execute(text("SELECT value FROM sync_state WHERE key = :k"), {"k": key}).scalar_one())


@pytest.mark.parametrize("agency_db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("attack", ["address", "swapped_keys", "other_box_key", "other_sign_key"])
def test_a_write_to_the_database_cannot_redirect_the_next_sync(agency: AgencyProcess, tmp_path: Path, attacker: str, attack: str) -> None:
    phone = enrolled_phone(agency, tmp_path)
    store = phone.store
    assert agency.url not in stored(store, "server_url")  # sealed at rest
    notes.log_phone_contact(store, phone.person_ids[0], 10, "Waiting to be sent.", ended_at=datetime(2026, 11, 25, 9))
    their_key = base64.b64encode(os.urandom(32)).decode()
    if attack == "address":
        overwrite(store, "server_url", attacker)
    elif attack == "swapped_keys":  # a genuine sealed value, moved to another setting
        box, sign = stored(store, "agency_box_key"), stored(store, "agency_sign_key")
        overwrite(store, "agency_box_key", sign)
        overwrite(store, "agency_sign_key", box)
    elif attack == "other_box_key":
        overwrite(store, "agency_box_key", their_key)
    else:
        overwrite(store, "agency_sign_key", their_key)

    summary = SyncClient(store, sleep=no_sleep).sync()  # says so, never raises (nor does the constructor, at unlock)
    assert "changed outside FieldPeer, so nothing was sent" in summary.error
    assert summary.sent == 0 and summary.pending == 1
    assert Listener.hits == []
    assert outbox.counts(store).pending == 1  # kept, not sent anywhere
    assert phone.admin.received(record_type="contact_note") == []
    with pytest.raises(TamperedSetting):
        sync_state.get_value(store, "server_url" if attack == "address" else "agency_box_key" if attack != "other_sign_key" else "agency_sign_key")
    store.close()
