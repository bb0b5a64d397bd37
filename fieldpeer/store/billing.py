"""Billable units as the peer sees them: the agency's figure once it has counted the note
(UnitsConfirmed, pulled), the phone's own estimate until then (marked as an estimate).
notes.note_units is what the note screen calls."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select

from fieldpeer.records import UnitsConfirmed
from fieldpeer.store.tables import ContactNoteRow, UnitsConfirmedRow
from fieldpeer.store.unit_of_work import Unit


def receive_units_confirmed(unit: Unit, confirmed: UnitsConfirmed) -> None:
    """Apply the agency's figure for a note; an older figure never replaces a newer one."""
    row = unit.session.get(UnitsConfirmedRow, confirmed.id)
    if row is not None and row.version >= confirmed.version:
        return
    unit.session.merge(UnitsConfirmedRow(note_id=confirmed.id, units=confirmed.units, version=confirmed.version))
    unit.audit("units_received", "contact_note", confirmed.id)


@dataclass(frozen=True)
class NoteUnits:
    units: int
    estimate: bool  # True until the agency's figure arrives

    @property
    def words(self) -> str:
        """ "3 units", or "About 3 units (estimate)" before the agency has counted them."""
        counted = f"{self.units} unit{'' if self.units == 1 else 's'}"
        return f"About {counted} (estimate)" if self.estimate else counted


def confirmed_units(unit: Unit, note_id: str) -> int | None:
    """The agency's figure for the note, or None before it arrives."""
    row = unit.session.get(UnitsConfirmedRow, note_id)
    return None if row is None else row.units


def units_for_person(unit: Unit, person_id: str) -> dict[str, NoteUnits]:
    """Units for each of a person's notes (for the timeline), the agency's figure where known."""
    rows = unit.session.exec(
        select(ContactNoteRow.id, ContactNoteRow.units, UnitsConfirmedRow.units)
        .join(UnitsConfirmedRow, col(UnitsConfirmedRow.note_id) == ContactNoteRow.id, isouter=True)
        .where(ContactNoteRow.person_id == person_id)
    ).all()
    return {note_id: NoteUnits(units if confirmed is None else confirmed, estimate=confirmed is None) for note_id, units, confirmed in rows}
