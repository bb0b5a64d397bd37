"""A push costs the agency the same number of SQL statements for 10 records as for 200, whatever
mix of records it brings (issue #18: every invariant is checked by set, never by a query per
record), on SQLite and PostgreSQL; and what the driver-level inserts store reads back exactly as
the ORM would have written it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from fieldpeer.agency import review, service, stored
from fieldpeer.agency.database import migrate_agency, open_agency_engine
from fieldpeer.agency.tables import Device, FeedEntry, NoteReview, NoteUnits, ReceivedRecord
from fieldpeer.domain import ConsentKind, NoteStatus, OutreachOutcome, PeerRole, SafetyAnswer
from fieldpeer.records import Addendum, Checkin, Consent, ContactNote, Deletion, Goal, OutreachAttempt, Person, Record, SafetyAlert, WrapPlan, new_id
from fieldpeer.sync.wire import EntryStatus, PushBatch, PushEntry, PushReceipt
from tests.conftest import complete_note
from tests.statements import statements_sent


@dataclass
class Agency:
    engine: Engine
    device: Device
    persons: list[Person]

    def push(self, records: list[Record]) -> tuple[int, PushReceipt]:
        """Push one batch as the route does; returns the statements it sent and the receipt."""
        batch = service.ParsedBatch(f"batch-{records[0].id}", [(new_id(), r) for r in records])
        with Session(self.engine, expire_on_commit=False) as db, statements_sent(self.engine) as sent:
            receipt = review.ingest(db, self.device, batch)
            db.commit()
        return sent.count, receipt


@pytest.fixture
def agency(agency_db_url: str) -> Iterator[Agency]:
    engine = open_agency_engine(agency_db_url)
    migrate_agency(engine)
    with Session(engine, expire_on_commit=False) as db:
        peer = service.add_peer(db, "Pat", PeerRole.PEER_SUPPORT_SPECIALIST, "CPSS")
        db.flush()
        persons = [Person(preferred_name=name, admitted_on=date(2026, 10, 1), goals=[Goal(text="Keep a job")]) for name in ("Quinn", "Rowan", "Sky")]
        for person in persons:
            service.add_person(db, peer.id, person)
        device = Device(id="device-1", peer_id=peer.id, token_hash="not-a-real-token", box_key="-", sign_key="-")
        db.add(device)
        db.commit()
    yield Agency(engine, device, persons)
    engine.dispose()


def variety(agency: Agency, count: int, earlier: list[ContactNote], first_day: int) -> list[Record]:
    """`count` records (the first 10 hold every kind) of every pushable kind, referring to each other and to what the agency
    already holds: signed notes with goals, drafts and their deletion, addenda to stored notes,
    check-ins with their alerts, outreach attempts, WRAP plans, consents, person edits."""
    made: list[Record] = []
    n = 0
    while len(made) < count:
        person = agency.persons[n % 3]
        start = datetime(2026, 11, 1, 8) + timedelta(days=first_day + n % 20, minutes=37 * n)
        kind = n % 9
        if kind == 0:
            made.append(complete_note(person.id, start=start, peer_id="", status=NoteStatus.SIGNED, goal_ids=[person.goals[0].id, "g1"]))  # g1: known for no one
        elif kind == 1:
            draft = complete_note(person.id, start=start, peer_id="")
            made += [draft, Deletion(deleted_type="contact_note", deleted_id=draft.id)]
        elif kind == 2:
            made.append(Addendum(note_id=earlier[n % len(earlier)].id, text=f"Addendum {n}"))
        elif kind == 3:
            checkin = Checkin(person_id=person.id, feeling_today=f"Words {n}", safety=SafetyAnswer.YES)
            made += [SafetyAlert(checkin_id=checkin.id, person_id=person.id), checkin]  # the alert first, as phones send it
        elif kind == 4:
            made.append(OutreachAttempt(person_id=person.id, outcome=OutreachOutcome.NO_ANSWER, attempted_at=start))
        elif kind == 5:
            made.append(WrapPlan(person_id=person.id))
        elif kind == 6:
            made.append(Consent(person_id=person.id, kind=ConsentKind.SERVICES, signed_on=date(2026, 11, 1)))
        elif kind == 7:
            edited = person.model_copy(update={"version": person.version + 1, "strengths": [f"Strength {n}"]})
            agency.persons[n % 3] = edited
            made.append(edited)
        else:
            made.append(complete_note(person.id, start=start, peer_id="", status=NoteStatus.SIGNED, goal_ids=[]))
        n += 1
    return made[:count]


def test_a_push_costs_the_same_statements_for_10_records_as_for_200(agency: Agency) -> None:
    earlier = [complete_note(p.id, start=datetime(2026, 10, 20 + i, 9), peer_id="", status=NoteStatus.SIGNED) for i, p in enumerate(agency.persons)]
    agency.push(list(earlier))

    small_statements, small = agency.push(variety(agency, 10, earlier, first_day=0))
    large_statements, large = agency.push(variety(agency, 200, earlier, first_day=0))

    assert {r.status for r in small.results} == {EntryStatus.STORED}, small
    assert {r.status for r in large.results} == {EntryStatus.STORED}, [r for r in large.results if r.status is not EntryStatus.STORED][:3]
    assert small_statements == large_statements, (small_statements, large_statements)


def test_rows_written_by_the_driver_read_back_like_the_orm_wrote_them(agency: Agency) -> None:
    before = datetime.now(UTC)
    note = complete_note(agency.persons[0].id, start=datetime(2026, 11, 3, 9, 30), minutes=40, peer_id="", status=NoteStatus.SIGNED)
    _, receipt = agency.push([note])
    assert receipt.results[0].status is EntryStatus.STORED

    with Session(agency.engine) as db:
        row = db.exec(select(ReceivedRecord).where(ReceivedRecord.record_id == note.id)).one()
        assert stored.read(ContactNote, row.payload) == note
        received_at = row.received_at if row.received_at.tzinfo else row.received_at.replace(tzinfo=UTC)
        assert before - timedelta(seconds=1) <= received_at <= datetime.now(UTC)
        units = db.get(NoteUnits, note.id)
        assert units is not None and units.starts_at == datetime(2026, 11, 3, 9, 30) and units.minutes == 40 and units.units == 3
        assert db.get(NoteReview, note.id) is not None
        feed = db.exec(select(FeedEntry.payload).where(FeedEntry.record_type == "units_confirmed", col(FeedEntry.record_id) == note.id)).one()
        assert '"units":3' in feed
    # The supervisor's view of the same note, through the models.
    with Session(agency.engine) as db:
        assert stored.latest(db, ContactNote, [note.id])[note.id] == note


# --- Each note's JSON kept as received (issue #18) ------------------------------------------


def batch_text(*entries: tuple[str, str]) -> bytes:
    """A batch laid out as the phone writes it, with each record's JSON given as is."""
    return ('{"batch_id":"batch-1","entries":[' + ",".join(f'{{"entry_id":"{e}","record":{r}}}' for e, r in entries) + "]}").encode()


def push_text(agency: Agency, plaintext: bytes) -> PushReceipt:
    batch = service.parse_batch(plaintext)
    with Session(agency.engine, expire_on_commit=False) as db:
        receipt = review.ingest(db, agency.device, batch)
        db.commit()
    return receipt


def stored_payload(agency: Agency, record_id: str, version: int) -> str:
    with Session(agency.engine) as db:
        return db.exec(select(ReceivedRecord.payload).where(ReceivedRecord.record_id == record_id, ReceivedRecord.version == version)).one()


def test_a_note_is_kept_as_the_phone_sent_it_and_reads_back_through_the_models(agency: Agency) -> None:
    note = complete_note(agency.persons[0].id, peer_id="", status=NoteStatus.SIGNED)
    sent = PushBatch.model_construct(batch_id="b-1", entries=[PushEntry.model_construct(entry_id="e-1", record=json.loads(note.model_dump_json()))]).model_dump_json()
    assert push_text(agency, sent.encode()).results[0].status is EntryStatus.STORED
    assert stored_payload(agency, note.id, note.version) == json.dumps(json.loads(note.model_dump_json()), separators=(",", ":"), ensure_ascii=False)
    with Session(agency.engine) as db:
        assert stored.latest(db, ContactNote, [note.id])[note.id] == note


def test_a_signed_note_spelled_with_spaces_stays_final(agency: Agency) -> None:
    """A device that spells its JSON otherwise (kept as received) cannot slip a new version past
    'a signed note is final': the agency knows a note is signed by its review row, not its text."""
    note = complete_note(agency.persons[0].id, peer_id="", status=NoteStatus.SIGNED)
    spaced = json.dumps(json.loads(note.model_dump_json()), indent=1)
    assert push_text(agency, batch_text(("e-1", spaced))).results[0].status is EntryStatus.STORED
    assert stored_payload(agency, note.id, note.version) == spaced  # kept, spaces and all: it reads back the same

    rewritten = note.model_copy(update={"version": note.version + 1, "narrative": note.narrative.model_copy(update={"plan": "Changed after signing."})})
    receipt = push_text(agency, batch_text(("e-2", json.dumps(json.loads(rewritten.model_dump_json()), indent=1))))
    assert (receipt.results[0].status, receipt.results[0].reason) == (EntryStatus.REJECTED, "signed_note_is_final")
    addendum = Addendum(note_id=note.id, text="A correction, as an addendum.")
    assert push_text(agency, batch_text(("e-3", addendum.model_dump_json()))).results[0].status is EntryStatus.STORED


def test_a_repeated_record_key_is_stored_as_it_was_validated(agency: Agency) -> None:
    """JSON parsers keep the last of two equal keys: what is stored is what was checked."""
    decoy = complete_note(agency.persons[1].id, peer_id="", status=NoteStatus.SIGNED)
    checked = complete_note(agency.persons[0].id, peer_id="", status=NoteStatus.SIGNED)
    plaintext = ('{"batch_id":"b-1","entries":[{"entry_id":"e-1","record":' + decoy.model_dump_json() + ',"record":' + checked.model_dump_json() + "}]}").encode()
    assert push_text(agency, plaintext).results[0].status is EntryStatus.STORED
    with Session(agency.engine) as db:
        rows = db.exec(select(ReceivedRecord.record_id, ReceivedRecord.payload)).all()
    assert [(record_id, ContactNote.model_validate_json(payload)) for record_id, payload in rows if record_id in (decoy.id, checked.id)] == [(checked.id, checked)]
