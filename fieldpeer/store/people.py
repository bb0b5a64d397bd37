"""Persons served: save, read, the caseload with its flags, and a person's timeline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from pydantic import BaseModel
from sqlalchemy import asc, desc, func
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from fieldpeer import domain
from fieldpeer.domain import ContactKind, NoteStatus, Zone
from fieldpeer.records import Person
from fieldpeer.store import alerts, billing, feedback
from fieldpeer.store.crypto import FieldCipher
from fieldpeer.store.fields import open_narrative
from fieldpeer.store.tables import PENDING, AddendumRow, CheckinRow, ContactNoteRow, OutboxRow, OutreachAttemptRow, PersonRow, UnitsConfirmedRow
from fieldpeer.store.unit_of_work import FieldStore, Unit

TABLE = "person"


class NotFound(LookupError):
    pass


class StaleWrite(Exception):
    """Someone (the agency, or another screen) saved a newer version first."""


def person_to_row(cipher: FieldCipher, person: Person, now: datetime) -> PersonRow:
    details = person.model_dump(mode="json", include={"strengths", "goals", "natural_supports", "phone"})
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
    """The person's row; NotFound when the agency moved them to another peer (released) too."""
    row = unit.session.get(PersonRow, person_id)
    if row is None or row.released_at is not None:
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
    """Apply a person the agency sent (pull). Older versions never replace newer ones; a newer
    one of a person released from this caseload (assigned back) brings them back."""
    existing = unit.session.get(PersonRow, person.id)
    if existing is None or existing.version < person.version:
        row = person_to_row(unit.cipher, person, unit.now)
        row.released_at = None
        unit.session.merge(row)
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
    alert_state: domain.AlertState | None = None  # OPEN, ACKNOWLEDGED (supervisor following up), or None
    follow_up_on: date | None = None  # a follow-up date not yet honoured by a contact
    flags: list[domain.Flag] = []  # most pressing first: words + icon name for each (domain.caseload_flags)
    draft_notes: int = 0  # unsigned contact notes: not contacts until signed
    last_attempt: tuple[datetime, domain.OutreachOutcome] | None = None  # the latest outreach attempt (local time)

    @property
    def flag_count(self) -> int:
        return len(self.flags)


class Caseload(BaseModel):
    entries: list[CaseloadEntry]
    pending_sync: int


def _latest_follow_ups(unit: Unit) -> dict[str, date]:
    """Per person, the follow-up date set by the latest note or outreach attempt that set one.
    One row per person from each table: SQLite takes a bare column from the row holding the
    max(), and a partial index holds just the rows with a follow-up (migration 10)."""
    latest: dict[str, tuple[datetime, date]] = {}
    for table in (ContactNoteRow, OutreachAttemptRow):
        at = col(ContactNoteRow.starts_at) if table is ContactNoteRow else col(OutreachAttemptRow.attempted_at)
        rows = unit.session.exec(
            select(col(table.person_id), func.max(at), col(table.follow_up_on)).where(col(table.follow_up_on).is_not(None)).group_by(col(table.person_id))
        ).all()
        for person_id, when, follow_up in rows:
            if person_id and follow_up and (person_id not in latest or when > latest[person_id][0]):
                latest[person_id] = (when, follow_up)
    return {person_id: follow_up for person_id, (_, follow_up) in latest.items()}


def _latest_attempts(unit: Unit) -> dict[str, tuple[datetime, domain.OutreachOutcome]]:
    """Per person, when the latest outreach attempt was made and how it ended (one index walk:
    SQLite takes the bare column from the row holding the max())."""
    rows = unit.session.exec(
        select(col(OutreachAttemptRow.person_id), func.max(OutreachAttemptRow.attempted_at), col(OutreachAttemptRow.outcome)).group_by(col(OutreachAttemptRow.person_id))
    ).all()
    return {person_id: (at, domain.OutreachOutcome(outcome)) for person_id, at, outcome in rows if at is not None}


def list_caseload(store: FieldStore, today: date, search: str = "") -> Caseload:
    """Active persons, sorted by need ("who needs me today?": open safety alert, returned notes,
    follow-up due, no contact in 30 days, plan review due, then the rest); `search` matches the
    preferred name. Each entry carries its flags with words and an icon. Only signed notes are
    contacts: drafts and outreach attempts never count as the last contact."""
    needle = search.strip().casefold()
    with store.unit() as unit:
        session = unit.session
        # First and last contact per person: two index seeks each (person_id, starts_at), where a
        # GROUP BY over contact_note read every note's index entry (50,000 on a busy phone).
        # Only signed notes are contacts (the agency's rule): an unsigned draft is shown as a draft,
        # never as "Last contact today". ORDER BY + LIMIT walks the index from one end and stops at
        # the first signed note (a bare min()/max() with the status test would read them all).
        def contact(order: Any) -> Any:
            signed = (ContactNoteRow.person_id == PersonRow.id, ContactNoteRow.status == NoteStatus.SIGNED.value)
            return select(ContactNoteRow.starts_at).where(*signed).order_by(order(ContactNoteRow.starts_at)).limit(1).correlate(PersonRow).scalar_subquery()

        active = session.exec(select(PersonRow, contact(asc), contact(desc)).where(col(PersonRow.discharged_on).is_(None), col(PersonRow.released_at).is_(None))).all()
        draft_notes = dict(session.exec(select(ContactNoteRow.person_id, func.count()).where(ContactNoteRow.status == NoteStatus.DRAFT.value).group_by(ContactNoteRow.person_id)).all())
        attempts = _latest_attempts(unit)
        alert_states = alerts.alert_states(unit)
        follow_ups = _latest_follow_ups(unit)
        pending = session.exec(select(func.count()).select_from(OutboxRow).where(OutboxRow.state == PENDING)).one()
        returned = feedback.returned_by_person(unit)
        ranked: list[tuple[tuple[int, int, str], CaseloadEntry]] = []
        for row, first, last in active:
            name = unit.cipher.decrypt(TABLE, row.id, "preferred_name", row.preferred_name_enc)
            if needle and needle not in name.casefold():
                continue
            facts = domain.PersonFacts(
                alert_state=alert_states.get(row.id),
                returned_notes=returned.get(row.id, 0),
                follow_up_on=follow_ups.get(row.id),
                last_contact=last.date() if last else None,
                first_contact=first.date() if first else None,
                admitted_on=row.admitted_on,
                plan_reviewed_on=row.plan_reviewed_on,
            )
            flags = domain.caseload_flags(facts, today)
            kinds = {f.kind for f in flags}
            entry = CaseloadEntry(
                person_id=row.id,
                preferred_name=name,
                recovery_stage=row.recovery_stage,
                last_contact=facts.last_contact,
                no_recent_contact=domain.FlagKind.NO_RECENT_CONTACT in kinds,
                plan_review_due=domain.FlagKind.PLAN_REVIEW_DUE in kinds,
                plan_review_due_on=domain.plan_review_due_on(row.plan_reviewed_on, row.admitted_on, facts.first_contact),
                open_safety_alert=facts.alert_state is domain.AlertState.OPEN,
                part2=row.part2,
                returned_notes=facts.returned_notes,
                alert_state=facts.alert_state,
                follow_up_on=domain.follow_up_pending(facts.follow_up_on, facts.last_contact),
                flags=flags,
                draft_notes=draft_notes.get(row.id, 0),
                last_attempt=attempts.get(row.id),
            )
            ranked.append(((*domain.need_rank(flags), name.casefold()), entry))
    ranked.sort(key=lambda pair: pair[0])
    return Caseload(entries=[entry for _, entry in ranked], pending_sync=pending)


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One line of a person's timeline (a plain dataclass: a thousand are built per screen)."""

    record_id: str
    kind: str  # a ContactKind code, "checkin", or OUTREACH
    at: datetime
    title: str
    detail: str
    status: str = ""
    addenda: int = 0
    units: str = ""  # "3 units", or "About 3 units (estimate)" before the agency's figure arrives


OUTREACH = "outreach_attempt"  # TimelineEntry.kind of an outreach attempt (not a contact: nothing to open)


def _labels(enum: type[domain.LabelledEnum]) -> dict[str, str]:
    return {member.value: member.label for member in enum}


def person_timeline(store: FieldStore, person_id: str, limit: int = 1000) -> list[TimelineEntry]:
    """Contacts, outreach attempts and check-ins for one person, newest first."""
    entries: list[TimelineEntry] = []
    with store.unit() as unit:
        load_person_row(unit, person_id)
        session, cipher = unit.session, unit.cipher
        # Only the columns the timeline shows: loading whole rows (JSON columns, ORM objects)
        # cost more than decrypting the narratives.
        notes: Sequence[Any] = session.execute(  # SQLAlchemy's select: sqlmodel's overloads stop at four columns
            sa_select(
                col(ContactNoteRow.id), col(ContactNoteRow.kind), col(ContactNoteRow.starts_at), col(ContactNoteRow.ends_at), col(ContactNoteRow.mode),
                col(ContactNoteRow.status), col(ContactNoteRow.narrative_enc), col(ContactNoteRow.units), col(UnitsConfirmedRow.units).label("confirmed"),
            )
            .join(UnitsConfirmedRow, col(UnitsConfirmedRow.note_id) == ContactNoteRow.id, isouter=True)
            .where(col(ContactNoteRow.person_id) == person_id)
            .order_by(col(ContactNoteRow.starts_at).desc())
            .limit(limit)
        ).all()
        addenda = dict(
            session.exec(
                select(AddendumRow.note_id, func.count())
                .join(ContactNoteRow, col(ContactNoteRow.id) == AddendumRow.note_id)
                .where(ContactNoteRow.person_id == person_id)
                .group_by(AddendumRow.note_id)
            ).all()
        )
        kinds, modes, statuses = _labels(ContactKind), _labels(domain.ContactMode), _labels(NoteStatus)
        reviewed = feedback.states_for_person(unit, person_id)
        unit_words = cache(lambda units, confirmed: billing.NoteUnits.of(units, confirmed).words)  # a handful of distinct figures
        for note in notes:
            narrative = open_narrative(cipher, note.id, note.narrative_enc)
            minutes = domain.contact_minutes(note.starts_at, note.ends_at)
            entries.append(
                TimelineEntry(
                    record_id=note.id,
                    kind=note.kind,
                    at=note.starts_at,
                    title=f"{kinds[note.kind]} · {modes.get(note.mode, 'Contact')} · {minutes} min",
                    detail=narrative.get("intervention") or narrative.get("goal") or "",
                    status=reviewed[note.id].label if note.id in reviewed else statuses[note.status],
                    addenda=addenda.get(note.id, 0),
                    units=unit_words(note.units, note.confirmed),
                )
            )
        outcomes, attempts = _labels(domain.OutreachOutcome), session.execute(  # SQLAlchemy's select: five columns
            sa_select(
                col(OutreachAttemptRow.id), col(OutreachAttemptRow.attempted_at), col(OutreachAttemptRow.mode), col(OutreachAttemptRow.outcome), col(OutreachAttemptRow.note_enc)
            )
            .where(col(OutreachAttemptRow.person_id) == person_id)
            .order_by(col(OutreachAttemptRow.attempted_at).desc())
            .limit(limit)
        ).all()
        for attempt_id, attempted_at, mode, outcome, note_enc in attempts:
            entries.append(
                TimelineEntry(
                    record_id=attempt_id,
                    kind=OUTREACH,
                    at=attempted_at,
                    title=f"{modes.get(mode, 'Contact')} · {outcomes[outcome]}",
                    detail=cipher.decrypt("outreach_attempt", attempt_id, "note", note_enc),
                    status="Outreach attempt (not a contact)",
                )
            )
        checkins = session.exec(
            select(CheckinRow)
            .where(CheckinRow.person_id == person_id)
            .order_by(col(CheckinRow.occurred_at).desc())
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
