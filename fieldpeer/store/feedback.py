"""Supervisors' feedback on this peer's signed notes, as pulled from the agency: co-signed, or
returned with a comment the peer answers with an addendum."""

from __future__ import annotations

from collections import Counter

from sqlmodel import col, select

from fieldpeer.domain import ReviewState, review_after_addendum
from fieldpeer.records import NoteFeedback, as_utc
from fieldpeer.store import bulk
from fieldpeer.store.tables import ContactNoteRow, NoteFeedbackRow
from fieldpeer.store.unit_of_work import FieldStore, Unit

TABLE = "note_feedback"


def receive_feedback(unit: Unit, feedback: NoteFeedback) -> None:
    """Apply a pulled review; an older one (a replayed page) never overwrites a newer one."""
    receive_feedback_page(unit, [feedback])


def receive_feedback_page(unit: Unit, page: list[NoteFeedback]) -> int:
    """Apply a pulled page's reviews in bulk (comment and reviewer encrypted as ever); how many were newer."""
    table = NoteFeedbackRow.__table__  # type: ignore[attr-defined]  # SQLModel does not declare __table__ (SQLAlchemy's mapping sets it)
    newer = bulk.newer_only(unit, table, "note_id", page)
    rows = [
        {
            "note_id": f.id,
            "state": f.state.value,
            "comment_enc": unit.cipher.encrypt(TABLE, f.id, "comment", f.comment),
            "reviewer_enc": unit.cipher.encrypt(TABLE, f.id, "reviewer", f.reviewer),
            "reviewed_at": f.reviewed_at,
            "version": f.version,
        }
        for f in newer
    ]
    bulk.upsert_newer(unit, table, "note_id", rows)
    bulk.audit_page(unit, "feedback_received", "contact_note", len(newer))
    return len(newer)


def answered(unit: Unit, note_id: str) -> None:
    """The peer added an addendum: a returned note goes back to the supervisor."""
    row = unit.session.get(NoteFeedbackRow, note_id)
    if row is not None:
        row.state = review_after_addendum(ReviewState(row.state)).value
        unit.session.add(row)


def feedback_for(store: FieldStore, note_id: str) -> NoteFeedback | None:
    with store.unit() as unit:
        row = unit.session.get(NoteFeedbackRow, note_id)
        if row is None:
            return None
        return NoteFeedback(
            id=row.note_id, state=ReviewState(row.state), comment=unit.cipher.decrypt(TABLE, row.note_id, "comment", row.comment_enc),
            reviewer=unit.cipher.decrypt(TABLE, row.note_id, "reviewer", row.reviewer_enc), reviewed_at=as_utc(row.reviewed_at), version=row.version,
        )


def states_for_person(unit: Unit, person_id: str) -> dict[str, ReviewState]:
    """Where supervision stands for each of a person's notes that has feedback."""
    rows = unit.session.exec(  # driven by the person's notes (indexed), each looked up by key
        select(NoteFeedbackRow.note_id, NoteFeedbackRow.state)
        .join(ContactNoteRow, col(ContactNoteRow.id) == NoteFeedbackRow.note_id)
        .where(ContactNoteRow.person_id == person_id)
    ).all()
    return {note_id: ReviewState(state) for note_id, state in rows}


def returned_by_person(unit: Unit) -> dict[str, int]:
    """How many returned notes wait for an addendum, per person. Starts from the few returned
    notes (indexed by state); a join let SQLite scan every note for the caseload."""
    returned = unit.session.exec(select(NoteFeedbackRow.note_id).where(NoteFeedbackRow.state == ReviewState.RETURNED.value)).all()
    if not returned:
        return {}
    rows = unit.session.exec(select(ContactNoteRow.person_id).where(col(ContactNoteRow.id).in_(list(returned)))).all()
    return dict(Counter(person_id for person_id in rows if person_id))
