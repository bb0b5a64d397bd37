"""One billable-unit figure per signed note, decided by the agency.

The phone shows units as the peer types, but the figure that counts is the agency's: its
configured rule for the service code, with the daily cap applied across all of the peer's
signed notes for one person and day, in the order the contacts happened. Every screen and
export reads it from `NoteUnits`; the phone gets it back as `UnitsConfirmed`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from fieldpeer import domain
from fieldpeer.agency import bulk
from fieldpeer.agency.tables import FeedEntry, NoteUnits
from fieldpeer.config import service_catalog
from fieldpeer.domain import UnitRule
from fieldpeer.records import ContactNote, UnitsConfirmed, utc_now

DayKey = tuple[str, str, str]  # (peer id, person id or "", ISO day)


@dataclass(frozen=True)
class Billed:
    """What the unit rule needs to know about one signed contact."""

    note_id: str
    starts_at: datetime
    minutes: int
    service_code: str


def units_for_day(contacts: Iterable[Billed], rules: Mapping[str, UnitRule]) -> dict[str, int]:
    """Units of each contact of one peer, person and day: each service code's rule, its daily cap
    used up in the order the contacts started (ties by note id, so the answer never depends on
    arrival order). An unknown service code bills nothing."""
    used: dict[str, int] = defaultdict(int)
    units: dict[str, int] = {}
    for contact in sorted(contacts, key=lambda c: (c.starts_at, c.note_id)):
        rule = rules.get(contact.service_code)
        units[contact.note_id] = domain.billable_units(contact.minutes, rule, used[contact.service_code]) if rule else 0
        used[contact.service_code] += units[contact.note_id]
    return units


def configured_rules() -> dict[str, UnitRule]:
    return {code.code: code.rule for code in service_catalog().codes}


def day_key(peer_id: str, note: ContactNote) -> DayKey:
    return (peer_id, note.person_id or "", note.starts_at.date().isoformat())


def confirm(session: Session, peer_id: str, notes: Sequence[ContactNote]) -> None:
    """Work out the units of newly signed notes and of every note sharing their person and day,
    store them and send each new or changed figure to the peer's phones. A fixed number of
    queries per push batch (it runs on the sync hot path: plain rows, no ORM objects)."""
    if not notes:
        return
    keys = {day_key(peer_id, n) for n in notes}
    # By peer and day (a batch spans few days), then by person here: far fewer parameters than (peer, person, day) tuples.
    same_days = session.execute(  # SQLAlchemy's select: sqlmodel's overloads stop at four columns
        sa_select(*(col(c) for c in (NoteUnits.note_id, NoteUnits.person_id, NoteUnits.day, NoteUnits.starts_at, NoteUnits.minutes, NoteUnits.service_code, NoteUnits.units, NoteUnits.version)))
        .where(col(NoteUnits.peer_id) == peer_id, col(NoteUnits.day).in_({day for _, _, day in keys}))
    ).all()
    rows = [row for row in same_days if (peer_id, row.person_id, row.day) in keys]
    known = {row.note_id for row in rows}
    by_day: dict[DayKey, list[Billed]] = defaultdict(list)
    for row in rows:
        by_day[(peer_id, row.person_id, row.day)].append(Billed(row.note_id, row.starts_at, row.minutes, row.service_code))
    fresh = {n.id: n for n in notes if n.id not in known}
    for note in fresh.values():
        by_day[day_key(peer_id, note)].append(Billed(note.id, note.starts_at, note.minutes, note.service_code))

    rules = configured_rules()
    figures = {note_id: units for day in by_day.values() for note_id, units in units_for_day(day, rules).items()}
    now = utc_now()
    changed = [(row.note_id, figures[row.note_id], row.version + 1) for row in rows if row.units != figures[row.note_id]]  # an earlier contact used the cap first
    if changed:
        session.connection().execute(
            update(NoteUnits).where(col(NoteUnits.note_id) == bindparam("nid")).values(units=bindparam("u"), version=bindparam("v")),
            [{"nid": note_id, "u": units, "v": version} for note_id, units, version in changed],
        )
    new_rows = [
        {"note_id": n.id, "peer_id": peer_id, "person_id": n.person_id or "", "day": n.starts_at.date().isoformat(), "starts_at": n.starts_at,
         "minutes": n.minutes, "service_code": n.service_code, "units": figures[n.id], "version": 1}
        for n in fresh.values()
    ]
    bulk.insert_rows(session, NoteUnits, new_rows)
    confirmed = [*changed, *((r["note_id"], r["units"], 1) for r in new_rows)]
    bulk.insert_rows(session, FeedEntry, [
        {"peer_id": peer_id, "record_type": "units_confirmed", "record_id": note_id, "payload": UnitsConfirmed(id=note_id, units=units, version=version).model_dump_json(), "created_at": now}
        for note_id, units, version in confirmed
    ])


def units_of(session: Session, note_ids: Iterable[str]) -> dict[str, int]:
    """The agency's figure for each of these notes (one query)."""
    ids = list(note_ids)
    if not ids:
        return {}
    return dict(session.exec(select(NoteUnits.note_id, NoteUnits.units).where(col(NoteUnits.note_id).in_(ids))).all())
