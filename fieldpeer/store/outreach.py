"""Outreach attempts: a call that did not reach the person (no answer, a message, a wrong number).

Kept in the person's timeline and sent to the agency for reports, but never a contact: no units,
not in billing, and it does not clear "No contact in 30 days" (the caseload counts contact notes only).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import col, select

from fieldpeer.domain import ContactMode, OutreachOutcome
from fieldpeer.records import OutreachAttempt
from fieldpeer.store.people import load_person_row
from fieldpeer.store.tables import OutreachAttemptRow
from fieldpeer.store.unit_of_work import FieldStore

TABLE = "outreach_attempt"


def log_outreach_attempt(
    store: FieldStore,
    person_id: str,
    outcome: OutreachOutcome,
    note: str = "",
    *,
    attempted_at: datetime,
    mode: ContactMode = ContactMode.TELEPHONE,
    follow_up_on: date | None = None,
) -> OutreachAttempt:
    """Record a try that did not reach the person (`attempted_at`: local wall-clock time, no zone).
    Queued for the agency like any record; the note is encrypted."""
    attempt = OutreachAttempt(person_id=person_id, attempted_at=attempted_at.replace(tzinfo=None), mode=mode, outcome=outcome, note=note, follow_up_on=follow_up_on)
    with store.unit() as unit:
        load_person_row(unit, person_id)
        unit.session.add(
            OutreachAttemptRow(
                id=attempt.id, person_id=person_id, attempted_at=attempt.attempted_at, mode=mode.value, outcome=outcome.value,
                note_enc=unit.cipher.encrypt(TABLE, attempt.id, "note", note), follow_up_on=follow_up_on,
            )
        )
        unit.changed("outreach_attempt", attempt)
    return attempt


def list_outreach_attempts(store: FieldStore, person_id: str) -> list[OutreachAttempt]:
    """The person's outreach attempts, newest first."""
    with store.unit() as unit:
        rows = unit.session.exec(select(OutreachAttemptRow).where(OutreachAttemptRow.person_id == person_id).order_by(col(OutreachAttemptRow.attempted_at).desc())).all()
        return [
            OutreachAttempt(
                id=r.id, person_id=r.person_id, attempted_at=r.attempted_at, mode=ContactMode(r.mode), outcome=OutreachOutcome(r.outcome),
                note=unit.cipher.decrypt(TABLE, r.id, "note", r.note_enc), follow_up_on=r.follow_up_on,
            )
            for r in rows
        ]
