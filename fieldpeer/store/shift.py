"""A shift at a glance, for End shift and the sync screen: today's contacts and units, the unsigned
notes (which reach the agency as drafts, not contacts) and the unsaved forms (never sent)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func
from sqlmodel import col, select

from fieldpeer.domain import NoteStatus
from fieldpeer.store import people
from fieldpeer.store.tables import ContactNoteRow, FormDraftRow, PersonRow, UnitsConfirmedRow
from fieldpeer.store.unit_of_work import FieldStore


@dataclass(frozen=True)
class ShiftSummary:
    contacts: int  # signed notes of contacts that started on the day
    units: int  # their billable units (the agency's figure where it came back, else the estimate)
    unsigned: list[str]  # preferred names, one per unsigned note, oldest first
    unsaved_forms: list[str]  # preferred names, one per check-in, consent or WRAP form kept as a draft


def shift_summary(store: FieldStore, day: date) -> ShiftSummary:
    start = datetime.combine(day, time.min)
    with store.unit() as unit:
        session = unit.session
        contacts, units = session.exec(
            select(func.count(), func.coalesce(func.sum(func.coalesce(UnitsConfirmedRow.units, ContactNoteRow.units)), 0))
            .select_from(ContactNoteRow)
            .join(UnitsConfirmedRow, col(UnitsConfirmedRow.note_id) == ContactNoteRow.id, isouter=True)
            .where(ContactNoteRow.status == NoteStatus.SIGNED.value, col(ContactNoteRow.starts_at) >= start, col(ContactNoteRow.starts_at) < start + timedelta(days=1))
        ).one()
        drafts = session.exec(select(ContactNoteRow.person_id).where(ContactNoteRow.status == NoteStatus.DRAFT.value).order_by(col(ContactNoteRow.starts_at))).all()
        forms = session.exec(select(FormDraftRow.person_id).order_by(col(FormDraftRow.updated_at))).all()
        names: dict[str, str] = {}

        def name(person_id: str | None) -> str:
            if person_id and person_id not in names:
                row = session.get(PersonRow, person_id)
                names[person_id] = unit.cipher.decrypt(people.TABLE, row.id, "preferred_name", row.preferred_name_enc) if row else "someone"
            return names.get(person_id or "", "a group")

        return ShiftSummary(contacts=int(contacts), units=int(units), unsigned=[name(p) for p in drafts], unsaved_forms=[name(p) for p in forms])
