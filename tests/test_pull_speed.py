"""Issue #18: a pulled page is applied in bulk (same outcome as one by one: a replayed older page
never wins, encrypted fields stay encrypted, one audit row per page and type), and a sync setting
changed outside FieldPeer never breaks unlock or auto-sync: the sync says so and sends nothing."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import select

from fieldpeer.domain import AlertState, ReviewState, SafetyAnswer
from fieldpeer.records import AlertStatus, NoteFeedback, Person, UnitsConfirmed
from fieldpeer.screens.session import FieldSession
from fieldpeer.store import alerts, billing, feedback, notes, outbox, people, pulled, wrap
from fieldpeer.store.profile import Profile
from fieldpeer.store.tables import AuditEventRow
from fieldpeer.store.unit_of_work import FieldStore
from fieldpeer.sync.client import SyncClient
from fieldpeer.sync.wire import API
from tests.conftest import PIN, TEST_COST, complete_note
from tests.servers import AgencyProcess
from tests.test_device_followups import Listener, attacker, overwrite  # noqa: F401 - attacker is a fixture
from tests.test_sync_integration import enrolled_phone, no_sleep

AT = datetime(2026, 11, 25, 9, tzinfo=UTC)


def page(version: int, note_ids: list[str], alert_id: str, person_id: str) -> list[object]:
    """A pulled page: every note's unit figure and review, the alert's state, all at `version`."""
    return [
        *[UnitsConfirmed(id=n, units=version * 2, version=version) for n in note_ids],
        *[
            NoteFeedback(id=n, state=ReviewState.RETURNED if version == 1 else ReviewState.COSIGNED, comment=f"comment v{version}", reviewer="Dana Reyes, LCSW", reviewed_at=AT, version=version)
            for n in note_ids
        ],
        AlertStatus(id=alert_id, person_id=person_id, state=AlertState.CLOSED if version == 2 else AlertState.ACKNOWLEDGED, by=f"Supervisor v{version}, LCSW", at=AT, version=version),
    ]


def test_a_page_applies_in_bulk_and_a_replayed_older_page_changes_nothing(store: FieldStore, person: Person) -> None:
    note_ids = [notes.sign_note(store, notes.save_draft(store, complete_note(person.id)).id).id for _ in range(3)]
    alert = wrap.raise_safety_alert(store, person.id, "checkin-1", SafetyAnswer.YES)
    assert alert is not None
    for version in (1, 2, 1):  # the first page, a newer one, then the first replayed (a lost reply)
        with store.unit() as unit:
            assert pulled.apply_pulled_page(unit, page(version, note_ids, alert.id, person.id)) == 7  # type: ignore[arg-type]

    with store.unit() as unit:
        assert [billing.confirmed_units(unit, n) for n in note_ids] == [4, 4, 4]
        audit = [(a.action, a.record_id) for a in unit.session.exec(select(AuditEventRow).where(AuditEventRow.action.like("%received"))).all()]  # type: ignore[attr-defined]
    got = feedback.feedback_for(store, note_ids[0])
    assert got is not None and (got.state, got.comment, got.version) == (ReviewState.COSIGNED, "comment v2", 2)
    [summary] = alerts.alerts_for_person(store, person.id)
    assert (summary.state, summary.by) == (AlertState.CLOSED, "Supervisor v2, LCSW")
    with store.unit() as unit:
        assert alert.id not in alerts.alert_states(unit)  # closed
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT resolved_at FROM safety_alert WHERE id = :a"), {"a": alert.id}).scalar_one() is not None
    # One row per page and type, with the count; the replayed page applied nothing, so logged nothing.
    assert audit == [("units_received", "3 records"), ("feedback_received", "3 records"), ("alert_status_received", "1 records")] * 2
    with store.engine.connect() as conn:  # encrypted at rest as before
        stored = b" ".join(bytes(v) for row in conn.execute(text("SELECT comment_enc, reviewer_enc FROM note_feedback UNION ALL SELECT by_enc, by_enc FROM alert_status")) for v in row)
    assert b"comment v2" not in stored and b"Dana Reyes" not in stored and b"Supervisor v2" not in stored


def test_a_page_keeps_its_order_around_records_applied_one_by_one(store: FieldStore, person: Person) -> None:
    """A run of figures, then a person, then more figures: all applied, the person updated in place."""
    note_id = notes.sign_note(store, notes.save_draft(store, complete_note(person.id)).id).id
    renamed = person.model_copy(update={"preferred_name": "Renamed", "version": person.version + 1})
    with store.unit() as unit:
        assert pulled.apply_pulled_page(unit, [UnitsConfirmed(id=note_id, units=1, version=1), renamed, UnitsConfirmed(id=note_id, units=5, version=3)]) == 3
    with store.unit() as unit:
        assert billing.confirmed_units(unit, note_id) == 5
    assert people.get_person(store, person.id).preferred_name == "Renamed"


@pytest.mark.parametrize("agency_db_url", ["sqlite"], indirect=True)
def test_a_tampered_agency_address_neither_breaks_unlock_nor_auto_sync_and_sends_nothing(agency: AgencyProcess, tmp_path: Path, attacker: str) -> None:  # noqa: F811
    phone = enrolled_phone(agency, tmp_path)
    notes.log_phone_contact(phone.store, phone.person_ids[0], 10, "Waiting to be sent.", ended_at=datetime(2026, 11, 25, 9))
    overwrite(phone.store, "server_url", attacker)
    phone.store.close()
    phone.profile.vault.lock()

    session = FieldSession(Profile(phone.profile.root, cost=TEST_COST), auto_sync_seconds=0.2)
    session.unlock(PIN)  # starts auto-sync: the client is made here and must not raise
    try:
        deadline = time.monotonic() + 20
        while session.last_summary is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert session.last_summary is not None, "auto-sync never reported"
        assert "changed outside FieldPeer, so nothing was sent" in session.last_summary.error
        summary = session.sync()  # the Sync screen's button says the same
        assert "changed outside FieldPeer" in summary.error and summary.pending == 1
        assert Listener.hits == []
        assert outbox.counts(session.store).pending == 1
        assert phone.admin.received(record_type="contact_note") == []
    finally:
        session.lock()


@pytest.mark.parametrize("agency_db_url", ["sqlite"], indirect=True)
def test_push_receipts_arrive_gzipped_while_sealed_pulls_and_web_pages_do_not(agency: AgencyProcess, tmp_path: Path) -> None:
    phone = enrolled_phone(agency, tmp_path)
    for n in range(12):  # a receipt over the 500-byte threshold
        notes.log_phone_contact(phone.store, phone.person_ids[0], 10, f"Call {n}.", ended_at=datetime(2026, 11, 25, 9, n))
    seen: list[tuple[str, str]] = []
    http = httpx.Client(event_hooks={"response": [lambda r: seen.append((r.request.url.path, r.headers.get("content-encoding", "")))]})
    summary = SyncClient(phone.store, http=http, sleep=no_sleep).sync()
    assert summary.ok and summary.sent == 12
    assert (f"{API}/push", "gzip") in seen
    assert all(encoding == "" for path, encoding in seen if path == f"{API}/pull")  # gzip'd inside the seal already
    page = httpx.get(f"{agency.url}/supervisor", headers={"Accept-Encoding": "gzip"}, follow_redirects=True)  # the sign-in page
    assert len(page.content) > 500 and "content-encoding" not in page.headers  # CSRF tokens beside typed text: never compressed
