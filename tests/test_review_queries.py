"""The review layer in process, on SQLite and PostgreSQL: the queue costs the same number of
queries at 5 notes as at 50, addenda are found by their note's id (never by text search), and
the agency's unit rule gives each note one figure whatever order the notes arrive in."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, delete
from sqlmodel import Session, select

from fieldpeer.agency import reports, review, service
from fieldpeer.agency.database import migrate_agency, open_agency_engine
from fieldpeer.agency.tables import AddendumIndex, Device, NoteUnits, Supervisor
from fieldpeer.agency.units import Billed, units_for_day
from fieldpeer.domain import NoteStatus, PeerRole, SafetyAnswer, UnitRounding, UnitRule
from fieldpeer.records import Addendum, Checkin, ContactNote, Person, Record, SafetyAlert
from tests.conftest import complete_note
from tests.statements import statements_sent


@dataclass
class Agency:
    engine: Engine
    device: Device
    supervisor: Supervisor
    person_ids: list[str]

    def push(self, *records: Record) -> None:
        with Session(self.engine, expire_on_commit=False) as db:
            receipt = review.ingest(db, self.device, service.ParsedBatch(f"batch-{records[0].id}", [(f"entry-{r.id}", r) for r in records]))
            db.commit()
        assert {r.status.value for r in receipt.results} == {"stored"}, receipt

    def queries(self, work: Any) -> tuple[int, Any]:
        """How many SQL statements `work(session)` sends, and what it returns."""
        with Session(self.engine, expire_on_commit=False) as db:
            with statements_sent(self.engine) as sent:
                result = work(db)
            db.commit()
        return sent.count, result


@pytest.fixture
def agency(agency_db_url: str) -> Iterator[Agency]:
    engine = open_agency_engine(agency_db_url)
    migrate_agency(engine)
    with Session(engine, expire_on_commit=False) as db:
        peer = service.add_peer(db, "Pat", PeerRole.PEER_SUPPORT_SPECIALIST, "CPSS")
        db.flush()
        persons = [service.add_person(db, peer.id, Person(preferred_name=name, admitted_on=date(2026, 10, 1))).id for name in ("Quinn", "Rowan", "Sky")]
        device = Device(id="device-1", peer_id=peer.id, token_hash="not-a-real-token", box_key="-", sign_key="-")
        supervisor, _ = review.add_supervisor(db, "Dana Reyes", "LCSW")
        db.add(device)
        db.commit()
    yield Agency(engine, device, supervisor, persons)
    engine.dispose()


def signed(person_id: str, day: int, hour: int = 9, minutes: int = 40, **changes: Any) -> ContactNote:
    return complete_note(person_id, start=datetime(2026, 11, day, hour), minutes=minutes, peer_id="", status=NoteStatus.SIGNED, **changes)


def fill(agency: Agency, notes: int, start: int = 0) -> list[ContactNote]:
    """`notes` signed notes (each with an addendum) and a safety alert per three notes, every
    other one with its check-in: the queue's whole variety."""
    made = []
    for n in range(start, start + notes):
        person = agency.person_ids[n % 3]
        note = signed(person, 1 + n % 28, 8 + n % 10)
        checkin = Checkin(person_id=person, feeling_today=f"Words {n}", safety=SafetyAnswer.YES)
        batch: list[Record] = [note, Addendum(note_id=note.id, text=f"Addendum to note {n}")]
        if n % 3 == 0:
            batch.append(SafetyAlert(checkin_id=checkin.id, person_id=person))
            if n % 2 == 0:
                batch.append(checkin)
        agency.push(*batch)
        made.append(note)
    return made


def test_the_queue_costs_the_same_queries_at_5_and_at_50_notes(agency: Agency) -> None:
    fill(agency, 5)
    small, queue = agency.queries(lambda db: review.queue(db, agency.supervisor))
    assert len(queue.notes) == 5 and len(queue.alerts) == 2
    made = fill(agency, 45, start=5)
    large, queue = agency.queries(lambda db: review.queue(db, agency.supervisor))
    assert len(queue.notes) == 50 and len(queue.alerts) == 17
    assert large == small and small >= 5, f"{small} queries at 5 notes, {large} at 50"
    by_id = {n.note_id: n for n in queue.notes}
    assert by_id[made[-1].id].addenda == ["Addendum to note 49"] and by_id[made[-1].id].units == 3
    assert sum(a.checkin_saved for a in queue.alerts) == 9 and {a.feeling_today for a in queue.alerts if a.checkin_saved} >= {"Words 6", "Words 48"}

    small_report, _ = agency.queries(lambda db: reports.peer_report(db, agency.device.peer_id, date(2026, 11, 1), date(2026, 11, 30), date(2026, 11, 30)))
    fill(agency, 20, start=50)
    large_report, report = agency.queries(lambda db: reports.peer_report(db, agency.device.peer_id, date(2026, 11, 1), date(2026, 11, 30), date(2026, 11, 30)))
    assert large_report == small_report and len(report.contacts) == 70


def test_an_addendum_belongs_to_its_note_even_when_it_names_another(agency: Agency) -> None:
    first, second = signed(agency.person_ids[0], 2), signed(agency.person_ids[0], 3)
    agency.push(first, second)
    agency.push(Addendum(note_id=first.id, text=f"Same visit as note {second.id}."))  # the old LIKE '%id%' matched this to both
    queue = review.queue(Session(agency.engine), agency.supervisor)
    assert {n.note_id: n.addenda for n in queue.notes} == {first.id: [f"Same visit as note {second.id}."], second.id: []}


def test_units_follow_the_contacts_order_not_the_arrival_order() -> None:
    rules = {"H0038": UnitRule(15, UnitRounding.MIDPOINT, daily_cap=16), "H0023": UnitRule(15, UnitRounding.WHOLE_UNITS)}
    day = [Billed("b-long", datetime(2026, 11, 5, 13), 240, "H0038"), Billed("a-call", datetime(2026, 11, 5, 8), 60, "H0038"),
           Billed("c-outreach", datetime(2026, 11, 5, 9), 50, "H0023"), Billed("d-unknown", datetime(2026, 11, 5, 10), 60, "X9999")]
    expected = {"a-call": 4, "b-long": 12, "c-outreach": 3, "d-unknown": 0}  # the cap is per code; an unknown code bills nothing
    assert units_for_day(day, rules) == expected and units_for_day(reversed(day), rules) == expected


def test_an_earlier_note_arriving_later_changes_the_figure_once_and_tells_the_phone(agency: Agency) -> None:
    quinn = agency.person_ids[0]
    long_visit, call = signed(quinn, 5, 13, minutes=240), signed(quinn, 5, 8, minutes=60)
    other_day = signed(quinn, 6, 8, minutes=240)
    agency.push(long_visit, other_day)
    agency.push(call)
    with Session(agency.engine) as db:
        figures = {row.note_id: (row.units, row.version) for row in db.exec(select(NoteUnits)).all()}
        feed = [r for r in service.pull(db, agency.device, 0).records if r["record_type"] == "units_confirmed"]
    assert figures == {long_visit.id: (12, 2), call.id: (4, 1), other_day.id: (16, 1)}
    assert [(r["id"], r["units"], r["version"]) for r in feed] == [(long_visit.id, 16, 1), (other_day.id, 16, 1), (long_visit.id, 12, 2), (call.id, 4, 1)]


def test_an_older_database_gets_its_units_and_addendum_index_when_the_server_starts(agency: Agency) -> None:
    made = fill(agency, 4)
    with Session(agency.engine) as db:  # a database from before: the tables exist (create_all) but are empty
        db.exec(delete(NoteUnits))  # type: ignore[call-overload]
        db.exec(delete(AddendumIndex))  # type: ignore[call-overload]
        db.commit()
        assert {n.units for n in review.queue(db, agency.supervisor).notes} == {0}
    migrate_agency(agency.engine)  # what every server start runs
    with Session(agency.engine) as db:
        queue = review.queue(db, agency.supervisor)
        assert review.backfill(db) == 0  # nothing left to fill in
    assert {n.note_id: (n.units, n.addenda) for n in queue.notes} == {n.id: (3, [f"Addendum to note {i}"]) for i, n in enumerate(made)}
