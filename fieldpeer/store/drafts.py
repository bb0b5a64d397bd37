"""Form drafts: what a peer typed into a check-in, consent or WRAP edit and has not saved yet.

Kept encrypted on this phone only (never synced), so Back, auto-lock, End shift or a crash never
throw typing away; removed when the form is saved or discarded. Contact notes need no table
here: an unsigned note is already kept as a draft note (notes.save_draft).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from fieldpeer.domain import DraftKind, NoteStatus
from fieldpeer.records import as_utc
from fieldpeer.store.people import load_person_row
from fieldpeer.store.tables import ContactNoteRow, FormDraftRow
from fieldpeer.store.unit_of_work import FieldStore, Unit

TABLE = "form_draft"


def _aad_id(kind: DraftKind, person_id: str, record_id: str) -> str:
    # The ciphertext is bound to its whole key: a draft copied onto another person does not open.
    return f"{kind.value}:{person_id}:{record_id}"


def save_form_draft(store: FieldStore, kind: DraftKind, person_id: str, content: dict[str, Any], record_id: str = "") -> None:
    """Keep the form's current fields (any JSON-able dict), replacing the previous draft of the same
    form. Call it a few seconds after the last keystroke and when leaving the screen. `record_id`
    is the id the form will save under (the check-in's id, the consent's id), or "" for the WRAP."""
    if kind is DraftKind.NOTE:
        raise ValueError("Contact notes are kept as draft notes: use notes.save_draft.")
    with store.unit() as unit:
        load_person_row(unit, person_id)
        sealed = unit.cipher.encrypt_json(TABLE, _aad_id(kind, person_id, record_id), "content", content)
        unit.session.merge(FormDraftRow(kind=kind.value, person_id=person_id, record_id=record_id, content_enc=sealed, updated_at=unit.now))


def load_form_draft(store: FieldStore, kind: DraftKind, person_id: str, record_id: str = "") -> dict[str, Any] | None:
    """The kept fields of that form, or None when there is no draft."""
    with store.unit() as unit:
        row = unit.session.get(FormDraftRow, (kind.value, person_id, record_id))
        if row is None:
            return None
        return dict(unit.cipher.decrypt_json(TABLE, _aad_id(kind, person_id, record_id), "content", row.content_enc))


def discard_form_draft(store: FieldStore, kind: DraftKind, person_id: str, record_id: str = "") -> None:
    """The peer chose Discard: forget the typing (no-op when there is none)."""
    with store.unit() as unit:
        drop_form_draft(unit, kind, person_id, record_id)


def drop_form_draft(unit: Unit, kind: DraftKind, person_id: str, record_id: str = "") -> None:
    """Remove a draft inside the caller's transaction (the form was saved)."""
    row = unit.session.get(FormDraftRow, (kind.value, person_id, record_id))
    if row is not None:
        unit.session.delete(row)


@dataclass(frozen=True)
class DraftSummary:
    """One unfinished form, for "Continue draft" on the person screen."""

    kind: DraftKind
    person_id: str
    record_id: str  # the note's id for a note draft; the form's id (or "") otherwise
    updated_at: datetime  # UTC

    @property
    def label(self) -> str:
        return f"Continue draft: {self.kind.label}"


def drafts_for_person(store: FieldStore, person_id: str) -> list[DraftSummary]:
    """Every unfinished form for this person, draft contact notes included, newest first."""
    with store.unit() as unit:
        forms = unit.session.exec(select(FormDraftRow.kind, FormDraftRow.record_id, FormDraftRow.updated_at).where(FormDraftRow.person_id == person_id)).all()
        notes = unit.session.exec(
            select(ContactNoteRow.id, ContactNoteRow.updated_at).where(ContactNoteRow.person_id == person_id, ContactNoteRow.status == NoteStatus.DRAFT.value)
        ).all()
    found = [DraftSummary(DraftKind(kind), person_id, record_id, as_utc(at) or at) for kind, record_id, at in forms]
    found += [DraftSummary(DraftKind.NOTE, person_id, note_id, as_utc(at) or at) for note_id, at in notes]
    return sorted(found, key=lambda d: d.updated_at, reverse=True)


def has_drafts(store: FieldStore) -> bool:
    """Any unfinished form on this phone (End shift can say so before locking)."""
    with store.unit() as unit:
        form = unit.session.exec(select(FormDraftRow.kind).limit(1)).first()
        note = unit.session.exec(select(ContactNoteRow.id).where(col(ContactNoteRow.status) == NoteStatus.DRAFT.value).limit(1)).first()
    return form is not None or note is not None
