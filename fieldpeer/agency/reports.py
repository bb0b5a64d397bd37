"""What supervisors look at besides the queue: a peer's contacts in a period, the mix of
face-to-face and telephone contacts, outreach attempts, the caseload flags (no contact in
30 days, plan review due) and the peer's safety alerts not closed yet. Pure rules come from
fieldpeer.domain; this module only gathers the data, through the wire's record models.

An outreach attempt (no answer, a message, a wrong number) is counted but is not a contact:
it has no units, no place in the mode mix, and does not clear "no contact in 30 days".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from fieldpeer import domain
from fieldpeer.agency import review, stored
from fieldpeer.agency.tables import NoteReview, NoteUnits, ReceivedRecord
from fieldpeer.domain import AlertState, NoteStatus, OutreachOutcome, ReviewState
from fieldpeer.records import ContactNote, OutreachAttempt


@dataclass(frozen=True)
class Contact:
    note_id: str
    day: date
    person_name: str
    mode: str
    minutes: int
    units: int  # the agency's figure (units.py)
    review: str


@dataclass(frozen=True)
class Attempt:
    day: date
    person_name: str
    mode: str
    outcome: str


@dataclass(frozen=True)
class PersonFlags:
    person_name: str
    last_contact: date | None
    no_recent_contact: bool
    plan_review_due: bool


@dataclass(frozen=True)
class PeerReport:
    contacts: list[Contact]
    mode_mix: dict[str, float]  # mode label -> share of contacts
    attempts: list[Attempt]  # outreach attempts in the period: counted, never billed
    attempts_by_outcome: dict[str, int]  # outcome label -> how many
    flags: list[PersonFlags]
    alerts: list[review.QueueAlert]  # open or being followed up, newest first

    @property
    def units(self) -> int:
        return sum(c.units for c in self.contacts)


def mode_mix(modes: list[str]) -> dict[str, float]:
    """Share of each contact mode (by label), largest first: the majority should be face-to-face."""
    counts = Counter(modes)
    total = sum(counts.values())
    return {label: n / total for label, n in counts.most_common()} if total else {}


def peer_report(session: Session, peer_id: str, start: date, end: date, today: date) -> PeerReport:
    persons = stored.persons(session, peer_id=peer_id)

    def name(person_id: str | None) -> str:
        return persons[person_id].preferred_name if person_id in persons else "Group or community"

    note_ids = list(session.exec(select(ReceivedRecord.record_id).where(ReceivedRecord.peer_id == peer_id, ReceivedRecord.record_type == "contact_note")).all())
    signed = [n for n in stored.latest(session, ContactNote, note_ids).values() if n.status is NoteStatus.SIGNED]
    reviews = dict(session.exec(select(NoteReview.note_id, NoteReview.state).where(NoteReview.peer_id == peer_id)).all())
    figures = dict(session.exec(select(NoteUnits.note_id, NoteUnits.units).where(NoteUnits.peer_id == peer_id)).all())
    contacts = []
    last_seen: dict[str, date] = {}
    for note in sorted(signed, key=lambda n: (n.starts_at, n.id)):
        day = note.starts_at.date()
        for person_id in filter(None, [note.person_id, *note.attendee_ids]):
            last_seen[person_id] = max(last_seen.get(person_id, day), day)
        if start <= day <= end:
            contacts.append(Contact(
                note_id=note.id, day=day, person_name=name(note.person_id), mode=note.mode.label if note.mode else "Not recorded",
                minutes=note.minutes, units=figures.get(note.id, 0), review=ReviewState(reviews[note.id]).label if note.id in reviews else "",
            ))
    attempt_payloads = session.exec(select(ReceivedRecord.payload).where(ReceivedRecord.peer_id == peer_id, ReceivedRecord.record_type == "outreach_attempt")).all()
    tries = sorted((stored.read(OutreachAttempt, p) for p in attempt_payloads), key=lambda a: a.attempted_at)
    attempts = [Attempt(a.attempted_at.date(), name(a.person_id), a.mode.label, a.outcome.label) for a in tries if start <= a.attempted_at.date() <= end]
    counted = Counter(a.outcome for a in attempts)
    flags = []
    for person_id, person in sorted(persons.items(), key=lambda p: p[1].preferred_name):
        if person.discharged_on:
            continue
        flags.append(PersonFlags(
            person_name=person.preferred_name, last_contact=last_seen.get(person_id),
            no_recent_contact=domain.no_recent_contact(last_seen.get(person_id), today, person.admitted_on),
            plan_review_due=domain.plan_review_due(person.plan_reviewed_on, person.admitted_on, today),
        ))
    return PeerReport(
        contacts=contacts, mode_mix=mode_mix([c.mode for c in contacts]), attempts=attempts,
        attempts_by_outcome={o.label: counted[o.label] for o in OutreachOutcome if counted[o.label]}, flags=flags,
        alerts=review.alerts(session, {AlertState.OPEN, AlertState.ACKNOWLEDGED}, peer_id=peer_id),
    )
