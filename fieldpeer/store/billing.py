"""Billable units as the peer sees them: the agency's figure once it has counted the note
(UnitsConfirmed, pulled), the phone's own estimate until then (marked as an estimate).
notes.note_units is what the note screen calls."""

from __future__ import annotations

from dataclasses import dataclass

from fieldpeer.records import UnitsConfirmed
from fieldpeer.store import bulk
from fieldpeer.store.tables import UnitsConfirmedRow
from fieldpeer.store.unit_of_work import Unit


def receive_units_confirmed(unit: Unit, confirmed: UnitsConfirmed) -> None:
    """Apply the agency's figure for a note; an older figure never replaces a newer one."""
    receive_units_confirmed_page(unit, [confirmed])


def receive_units_confirmed_page(unit: Unit, page: list[UnitsConfirmed]) -> int:
    """Apply a pulled page's figures in bulk; returns how many were newer than what was held."""
    table = UnitsConfirmedRow.__table__  # type: ignore[attr-defined]  # SQLModel does not declare __table__ (SQLAlchemy's mapping sets it)
    newer = bulk.newer_only(unit, table, "note_id", page)
    bulk.upsert_newer(unit, table, "note_id", [{"note_id": c.id, "units": c.units, "version": c.version} for c in newer])
    bulk.audit_page(unit, "units_received", "contact_note", len(newer))
    return len(newer)


@dataclass(frozen=True)
class NoteUnits:
    units: int
    estimate: bool  # True until the agency's figure arrives

    @classmethod
    def of(cls, estimate: int, confirmed: int | None) -> NoteUnits:
        """The agency's figure when it has arrived, else the phone's own estimate."""
        return cls(estimate if confirmed is None else confirmed, estimate=confirmed is None)

    @property
    def words(self) -> str:
        """ "3 units", or "About 3 units (estimate)" before the agency has counted them."""
        counted = f"{self.units} unit{'' if self.units == 1 else 's'}"
        return f"About {counted} (estimate)" if self.estimate else counted


def confirmed_units(unit: Unit, note_id: str) -> int | None:
    """The agency's figure for the note, or None before it arrives."""
    row = unit.session.get(UnitsConfirmedRow, note_id)
    return None if row is None else row.units
