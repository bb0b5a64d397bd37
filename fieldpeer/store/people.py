"""Persons served: save, read, the caseload with its flags, and a person's timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import select

from fieldpeer import domain
from fieldpeer.domain import ContactKind, NoteStatus, Zone
from fieldpeer.store import feedback
from fieldpeer.store.crypto import FieldCipher
from fieldpeer.store.tables import AddendumRow, CheckinRow, ContactNoteRow, OutboxRow, PersonRow, SafetyAlertRow
from fieldpeer.store.unit_of_work import FieldStore, Unit
from fieldpeer.records import Person

TABLE = "person"


class NotFound(LookupError):
    pass


class StaleWrite(Exception):
    """Someone (the agency, or another screen) saved a newer version first."""


def person_to_row(cipher: FieldCipher, person: Person, now: datetime) -> PersonRow:
    details = person.model_dump(mode="json", include={"strengths", "goals", "natural_supports"})
    return PersonRow(
        id=person.id,
        preferred_name_enc=cipher.encrypt(TABLE, person.id, "preferred_name", person.preferred_name),
        details_enc=cipher.encrypt_json(TABLE, person.id, "details", details),
        recovery_stage=person.recovery_stage.value,
        service_criterion=person.service_criterion,
        admitted_on=person.admitted_on,
        plan_reviewed_on=person.plan_reviewed_on,
        discharged_on=person.discharged_on,
        discharge_reason=person.discharge_reason,
        part2=person.part2,
        version=person.version,
        updated_at=now,
    )


def row_to_person(cipher: FieldCipher, row: PersonRow) -> Person:
    details = cipher.decrypt_json(TABLE, row.id, "details", row.details_enc)
    return Person(
        id=row.id,
        preferred_name=cipher.decrypt(TABLE, row.id, "preferred_name", row.preferred_name_enc),
        recovery_stage=row.recovery_stage,
        service_criterion=row.service_criterion,
        admitted_on=row.admitted_on,
        plan_reviewed_on=row.plan_reviewed_on,
        discharged_on=row.discharged_on,
        discharge_reason=row.discharge_reason,
        part2=row.part2,
        version=row.version,
        **details,
    )


def load_person_row(unit: Unit, person_id: str) -> PersonRow:
    row = unit.session.get(PersonRow, person_id)
    if row is None:
        raise NotFound("That person is not on this caseload.")
    return row


def save_person(store: FieldStore, person: Person, *, expected_version: int | None = None) -> Person:
    """Create a person, or update one: `expected_version` is the version the edit started from."""
    with store.unit() as unit:
        existing = unit.session.get(PersonRow, person.id)
        if existing is not None:
            if existing.version != expected_version:
                raise StaleWrite("This person's details changed since you opened them. Reopen and try again.")
            person = person.model_copy(update={"version": existing.version + 1})
        unit.session.merge(person_to_row(unit.cipher, person, unit.now))
        unit.changed("update" if existing else "create", person)
    return person


def receive_person(unit: Unit, person: Person) -> None:
    """Apply a person the agency sent (pull). Older versions never replace newer ones."""
    existing = unit.session.get(PersonRow, person.id)
    if existing is None or existing.version < person.version:
        unit.session.merge(person_to_row(unit.cipher, person, unit.now))
        unit.audit("received", "person", person.id)


def get_person(store: FieldStore, person_id: str) -> Person:
    with store.unit() as unit:
        return row_to_person(unit.cipher, load_person_row(unit, person_id))


class CaseloadEntry(BaseModel):
    person_id: str
    preferred_name: str
    recovery_stage: domain.RecoveryStage
    last_contact: date | None
    no_recent_contact: bool
    plan_review_due: bool
    plan_review_due_on: date | None
    open_safety_alert: bool
    part2: bool
    returned_notes: int = 0  # returned by a supervisor, waiting for an addendum

    @property
    def flag_count(self) -> int:
        return int(self.no_recent_contact) + int(self.plan_review_due) + int(self.open_safety_alert) + int(self.returned_notes > 0)


class Caseload(BaseModel):
    entries: list[CaseloadEntry]
    pending_sync: int


def list_caseload(store: FieldStore, today: date, search: str = "") -> Caseload:
    """Active persons with flags, most urgent first; `search` matches the preferred name."""
    needle = search.strip().casefold()
    with store.unit() as unit:
        session = unit.session
        last_contact = dict(
            session.exec(  # type: ignore[call-overload]
                select(ContactNoteRow.person_id, func.max(ContactNoteRow.starts_at)).group_by(ContactNoteRow.person_id)
            ).all()
        )
        open_alerts = set(session.exec(select(SafetyAlertRow.person_id).where(SafetyAlertRow.resolved_at.is_(None))).all())  # type: ignore[union-attr]
        pending = session.exec(select(func.count()).select_from(OutboxRow).where(OutboxRow.state == "pending")).one()
        returned = feedback.returned_by_person(unit)
        entries: list[CaseloadEntry] = []
        for row in session.exec(select(PersonRow).where(PersonRow.discharged_on.is_(None))):  # type: ignore[union-attr]
            name = unit.cipher.decrypt(TABLE, row.id, "preferred_name", row.preferred_name_enc)
            if needle and needle not in name.casefold():
                continue
            seen = last_contact.get(row.id)
            seen_day = seen.date() if seen else None
            entries.append(
                CaseloadEntry(
                    person_id=row.id,
                    preferred_name=name,
                    recovery_stage=row.recovery_stage,
                    last_contact=seen_day,
                    no_recent_contact=domain.no_recent_contact(seen_day, today, row.admitted_on),
                    plan_review_due=domain.plan_review_due(row.plan_reviewed_on, row.admitted_on, today),
                    plan_review_due_on=domain.plan_review_due_on(row.plan_reviewed_on, row.admitted_on),
                    open_safety_alert=row.id in open_alerts,
                    part2=row.part2,
                    returned_notes=returned.get(row.id, 0),
                )
            )
    entries.sort(key=lambda e: (not e.open_safety_alert, -e.flag_count, e.preferred_name.casefold()))
    return Caseload(entries=entries, pending_sync=pending)


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One line of a person's timeline (a plain dataclass: a thousand are built per screen)."""

    record_id: str
    kind: str  # a ContactKind code, or "checkin"
    at: datetime
    title: str
    detail: str
    status: str = ""
    addenda: int = 0


def _labels(enum: type[domain.LabelledEnum]) -> dict[str, str]:
    return {member.value: member.label for member in enum}


def person_timeline(store: FieldStore, person_id: str, limit: int = 1000) -> list[TimelineEntry]:
    """Contacts and check-ins for one person, newest first."""
    entries: list[TimelineEntry] = []
    with store.unit() as unit:
        load_person_row(unit, person_id)
        session, cipher = unit.session, unit.cipher
        # Only the columns the timeline shows: loading whole rows (JSON columns, ORM objects)
        # cost more than decrypting the narratives.
        shown = (ContactNoteRow.id, ContactNoteRow.kind, ContactNoteRow.starts_at, ContactNoteRow.ends_at, ContactNoteRow.mode, ContactNoteRow.status, ContactNoteRow.narrative_enc)
        notes = session.exec(  # type: ignore[call-overload]
            select(*shown)
            .where(ContactNoteRow.person_id == person_id)
            .order_by(ContactNoteRow.starts_at.desc())  # type: ignore[attr-defined]
            .limit(limit)
        ).all()
        addenda = dict(
            session.exec(  # type: ignore[call-overload]
                select(AddendumRow.note_id, func.count())
                .join(ContactNoteRow, ContactNoteRow.id == AddendumRow.note_id)  # type: ignore[arg-type]
                .where(ContactNoteRow.person_id == person_id)
                .group_by(AddendumRow.note_id)
            ).all()
        )
        kinds, modes, statuses = _labels(ContactKind), _labels(domain.ContactMode), _labels(NoteStatus)
        reviewed = feedback.states_for_person(unit, person_id)
        for note in notes:
            narrative = cipher.decrypt_json("contact_note", note.id, "narrative", note.narrative_enc)
            minutes = int((note.ends_at - note.starts_at).total_seconds() // 60)
            entries.append(
                TimelineEntry(
                    record_id=note.id,
                    kind=note.kind,
                    at=note.starts_at,
                    title=f"{kinds[note.kind]} · {modes.get(note.mode, 'Contact')} · {minutes} min",
                    detail=narrative.get("intervention") or narrative.get("goal") or "",
                    status=reviewed[note.id].label if note.id in reviewed else statuses[note.status],
                    addenda=addenda.get(note.id, 0),
                )
            )
        checkins = session.exec(
            select(CheckinRow)
            .where(CheckinRow.person_id == person_id)
            .order_by(CheckinRow.occurred_at.desc())  # type: ignore[attr-defined]
            .limit(limit)
        ).all()
        for checkin in checkins:
            answers = cipher.decrypt_json("checkin", checkin.id, "answers", checkin.answers_enc)
            entries.append(
                TimelineEntry(
                    record_id=checkin.id,
                    kind="checkin",
                    at=checkin.occurred_at,
                    title=f"Pre-crisis check-in · {Zone(checkin.zone).label}",
                    detail=answers.get("feeling_today", ""),
                    status="Safety alert raised" if checkin.escalation == domain.Escalation.URGENT else "",
                )
            )
    entries.sort(key=lambda e: e.at, reverse=True)  # both are local wall-clock times
    return entries[:limit]
