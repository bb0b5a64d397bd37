"""A person the agency moved to another peer: hidden at once, purged once nothing waits.

The agency says so with a pulled ``Deletion(deleted_type="person")``. The person leaves the
caseload, search and every form at once (``PersonRow.released_at``), but nothing the peer wrote
is lost: what still waits in the outbox is sent (the agency may quarantine it as
``not_your_caseload``, and the peer sees why). Once nothing about the person is pending or
quarantined, every local row about them is deleted (minimum necessary: the old peer has no
business keeping them). A newer version of the person pulled later (assigned back) restores
them (people.receive_person).
"""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlmodel import col, select

from fieldpeer.store.tables import PENDING, QUARANTINED, PersonRow
from fieldpeer.store.unit_of_work import Unit

log = logging.getLogger("fieldpeer.store")

# Every id of a record about the person :p that may sit in the outbox (group notes, which are
# about several persons, are not: they stay). SQL, so a person with thousands of notes is one query.
_RECORD_IDS = """
    SELECT :p
    UNION ALL SELECT id FROM contact_note WHERE person_id = :p
    UNION ALL SELECT a.id FROM addendum AS a JOIN contact_note AS n ON n.id = a.note_id WHERE n.person_id = :p
    UNION ALL SELECT id FROM checkin WHERE person_id = :p
    UNION ALL SELECT id FROM safety_alert WHERE person_id = :p
    UNION ALL SELECT id FROM wrap_plan WHERE person_id = :p
    UNION ALL SELECT id FROM consent WHERE person_id = :p
    UNION ALL SELECT id FROM outreach_attempt WHERE person_id = :p
"""
_NOTES = "SELECT id FROM contact_note WHERE person_id = :p"

# Children before parents (foreign keys are on); the outbox's settled copies first, while the
# rows that name their ids still exist.
_PURGE = (
    f"DELETE FROM outbox WHERE record_id IN ({_RECORD_IDS})",
    f"DELETE FROM addendum WHERE note_id IN ({_NOTES})",
    f"DELETE FROM note_feedback WHERE note_id IN ({_NOTES})",
    f"DELETE FROM units_confirmed WHERE note_id IN ({_NOTES})",
    "DELETE FROM safety_alert WHERE person_id = :p",
    "DELETE FROM alert_status WHERE person_id = :p",
    "DELETE FROM checkin WHERE person_id = :p",
    "DELETE FROM wrap_plan WHERE person_id = :p",
    "DELETE FROM consent WHERE person_id = :p",
    "DELETE FROM outreach_attempt WHERE person_id = :p",
    "DELETE FROM form_draft WHERE person_id = :p",
    "DELETE FROM contact_note WHERE person_id = :p",  # their blind-index tokens go with them
    "DELETE FROM person WHERE id = :p",
)


def release_person(unit: Unit, person_id: str) -> None:
    """Apply the agency's "this person is no longer yours" (pulled): hide now, purge when settled."""
    row = unit.session.get(PersonRow, person_id)
    if row is None or row.released_at is not None:
        return
    row.released_at = unit.now
    unit.session.add(row)
    unit.session.flush()
    unit.audit("released", "person", person_id)
    purge_if_settled(unit, person_id)


def waiting(unit: Unit, person_id: str) -> int:
    """Outbox entries about the person still pending or quarantined."""
    query = text(f"SELECT count(*) FROM outbox WHERE state IN (:pending, :quarantined) AND record_id IN ({_RECORD_IDS})")
    return int(unit.session.execute(query, {"p": person_id, "pending": PENDING, "quarantined": QUARANTINED}).scalar_one())


def purge_if_settled(unit: Unit, person_id: str) -> bool:
    """Delete every local row about a released person once nothing about them waits. True if purged."""
    if waiting(unit, person_id):
        return False
    for statement in _PURGE:
        unit.session.execute(text(statement), {"p": person_id})
    unit.audit("purged", "person", person_id)
    log.info("purged released person %s", person_id)
    return True


def purge_settled(unit: Unit) -> int:
    """Purge every released person whose records have all reached the agency (after a receipt)."""
    released = unit.session.exec(select(PersonRow.id).where(col(PersonRow.released_at).is_not(None))).all()
    return sum(purge_if_settled(unit, person_id) for person_id in released)
