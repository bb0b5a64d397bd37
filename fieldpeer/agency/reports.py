"""What supervisors look at besides the queue: a peer's contacts in a period, the mix of
face-to-face and telephone contacts, and the caseload flags (no contact in 30 days, plan
review due). Pure rules come from fieldpeer.domain; this module only gathers the data."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from fieldpeer import domain
from fieldpeer.agency.tables import NoteReview, Person, ReceivedRecord
from fieldpeer.domain import ContactMode, ReviewState


@dataclass(frozen=True)
class Contact:
    note_id: str
    day: date
    person_name: str
    mode: str
    minutes: int
    units: int
    review: str


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
    flags: list[PersonFlags]


def mode_mix(modes: list[str]) -> dict[str, float]:
    """Share of each contact mode (by label), largest first: the majority should be face-to-face."""
    counts = Counter(modes)
    total = sum(counts.values())
    return {label: n / total for label, n in counts.most_common()} if total else {}


def peer_report(session: Session, peer_id: str, start: date, end: date, today: date) -> PeerReport:
    persons = {p.id: json.loads(p.payload) for p in session.exec(select(Person).where(Person.peer_id == peer_id)).all()}
    latest: dict[str, dict] = {}
    for row in session.exec(select(ReceivedRecord).where(ReceivedRecord.peer_id == peer_id, ReceivedRecord.record_type == "contact_note").order_by(col(ReceivedRecord.version))).all():
        latest[row.record_id] = json.loads(row.payload)
    signed = [n for n in latest.values() if n.get("status") == "signed"]
    reviews = {r.note_id: r.state for r in session.exec(select(NoteReview).where(NoteReview.peer_id == peer_id)).all()}
    contacts = []
    last_seen: dict[str, date] = {}
    for note in sorted(signed, key=lambda n: n["starts_at"]):
        starts, ends = datetime.fromisoformat(note["starts_at"]), datetime.fromisoformat(note["ends_at"])
        for person_id in filter(None, [note.get("person_id"), *note.get("attendee_ids", [])]):
            last_seen[person_id] = max(last_seen.get(person_id, starts.date()), starts.date())
        if start <= starts.date() <= end:
            contacts.append(Contact(
                note_id=note["id"], day=starts.date(), person_name=persons.get(note.get("person_id") or "", {}).get("preferred_name", "Group or community"),
                mode=ContactMode(note["mode"]).label if note.get("mode") else "Not recorded", minutes=int((ends - starts).total_seconds() // 60),
                units=note.get("units", 0), review=ReviewState(reviews[note["id"]]).label if note["id"] in reviews else "",
            ))
    flags = []
    for person_id, person in sorted(persons.items(), key=lambda p: p[1].get("preferred_name", "")):
        if person.get("discharged_on"):
            continue
        admitted = date.fromisoformat(person["admitted_on"]) if person.get("admitted_on") else None
        reviewed = date.fromisoformat(person["plan_reviewed_on"]) if person.get("plan_reviewed_on") else None
        flags.append(PersonFlags(
            person_name=person.get("preferred_name", ""), last_contact=last_seen.get(person_id),
            no_recent_contact=domain.no_recent_contact(last_seen.get(person_id), today, admitted),
            plan_review_due=domain.plan_review_due(reviewed, admitted, today),
        ))
    return PeerReport(contacts=contacts, mode_mix=mode_mix([c.mode for c in contacts]), flags=flags)
