"""Contact notes: drafts, signing (after which a note is a legal record), addenda, quick phone logs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select

from fieldpeer import domain
from fieldpeer.config import ServiceCatalog, service_catalog
from fieldpeer.domain import ContactKind, ContactMode, ContactSetting, NoteStatus
from fieldpeer.records import Addendum, ContactNote, Deletion, Narrative, as_utc, signing_problems
from fieldpeer.store import billing, feedback, search
from fieldpeer.store.crypto import FieldCipher
from fieldpeer.store.fields import NOTE_TABLE, open_narrative, seal_narrative
from fieldpeer.store.people import NotFound, StaleWrite, load_person_row
from fieldpeer.store.tables import AddendumRow, ContactNoteRow
from fieldpeer.store.unit_of_work import FieldStore, Unit

TABLE = NOTE_TABLE


class NoteError(ValueError):
    """A note cannot be saved or signed as it is; the message says what to fix."""


class SignedNoteIsFinal(NoteError):
    def __init__(self) -> None:
        super().__init__("This note is signed and cannot be changed. Add an addendum instead.")


def note_to_row(cipher: FieldCipher, note: ContactNote, now: datetime) -> ContactNoteRow:
    return ContactNoteRow(
        id=note.id,
        kind=note.kind.value,
        person_id=note.person_id,
        attendee_ids=list(note.attendee_ids),
        peer_id=note.peer_id,
        starts_at=note.starts_at,
        ends_at=note.ends_at,
        mode=note.mode,
        setting=note.setting,
        service_code=note.service_code,
        units=note.units,
        interventions=[i.value for i in note.interventions],
        goal_ids=list(note.goal_ids),
        narrative_enc=seal_narrative(cipher, note.id, note.narrative.model_dump()),
        follow_up_on=note.follow_up_on,
        status=note.status.value,
        signed_at=note.signed_at,
        version=note.version,
        updated_at=now,
        search_tokens=search.tokens(cipher, note.narrative.model_dump().values()),
    )


def row_to_note(cipher: FieldCipher, row: ContactNoteRow) -> ContactNote:
    return ContactNote(
        id=row.id,
        kind=row.kind,
        person_id=row.person_id,
        attendee_ids=row.attendee_ids,
        peer_id=row.peer_id,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        mode=row.mode,
        setting=row.setting,
        service_code=row.service_code,
        units=row.units,
        interventions=row.interventions,
        goal_ids=row.goal_ids,
        narrative=Narrative(**open_narrative(cipher, row.id, row.narrative_enc)),
        follow_up_on=row.follow_up_on,
        status=row.status,
        signed_at=as_utc(row.signed_at),
        version=row.version,
    )


def units_billed_on(unit: Unit, person_id: str | None, day: date, service_code: str, excluding: str) -> int:
    """Units already claimed for this person, day and service (for the daily cap)."""
    if person_id is None:
        return 0
    start = datetime.combine(day, datetime.min.time())
    total = unit.session.exec(
        select(func.coalesce(func.sum(ContactNoteRow.units), 0)).where(
            ContactNoteRow.person_id == person_id,
            ContactNoteRow.service_code == service_code,
            ContactNoteRow.status == NoteStatus.SIGNED.value,
            ContactNoteRow.starts_at >= start,
            ContactNoteRow.starts_at < start + timedelta(days=1),
            ContactNoteRow.id != excluding,
        )
    ).one()
    return int(total)


def units_for(unit: Unit, note: ContactNote, catalog: ServiceCatalog) -> int:
    service = catalog.get(note.service_code)
    if service is None:
        return 0
    already = units_billed_on(unit, note.person_id, note.starts_at.date(), note.service_code, note.id)
    return domain.billable_units(note.minutes, service.rule, already)


def load_note_row(unit: Unit, note_id: str) -> ContactNoteRow:
    row = unit.session.get(ContactNoteRow, note_id)
    if row is None:
        raise NotFound("That note is not on this device.")
    return row


def load_draft_row(unit: Unit, note_id: str) -> ContactNoteRow:
    row = load_note_row(unit, note_id)
    if row.status == NoteStatus.SIGNED.value:
        raise SignedNoteIsFinal()
    return row


def _check_people(unit: Unit, note: ContactNote) -> None:
    for person_id in filter(None, [note.person_id, *note.attendee_ids]):
        load_person_row(unit, person_id)


def write_note(unit: Unit, note: ContactNote, action: str) -> None:
    """The note row (with its search tokens) and its outbox entry, in the caller's transaction."""
    unit.session.merge(note_to_row(unit.cipher, note, unit.now))
    unit.changed(action, note)


def save_draft(store: FieldStore, note: ContactNote, catalog: ServiceCatalog | None = None) -> ContactNote:
    """Save work in progress (any time, even incomplete). Returns the note with units worked out."""
    catalog = catalog or service_catalog()
    with store.unit() as unit:
        existing = unit.session.get(ContactNoteRow, note.id)
        if existing is not None and existing.status == NoteStatus.SIGNED.value:
            raise SignedNoteIsFinal()
        _check_people(unit, note)
        version = existing.version + 1 if existing else 1
        if existing is not None and note.version != existing.version:
            raise StaleWrite("This draft was saved elsewhere since you opened it. Reopen it and try again.")
        note = note.model_copy(update={"peer_id": store.peer_id, "status": NoteStatus.DRAFT, "version": version, "signed_at": None})
        note = note.model_copy(update={"units": units_for(unit, note, catalog)})
        write_note(unit, note, "save_draft")
    return note


def sign_note(store: FieldStore, note_id: str, catalog: ServiceCatalog | None = None) -> ContactNote:
    """Sign a saved draft: checks every required element, fixes the units, and makes it final."""
    catalog = catalog or service_catalog()
    with store.unit() as unit:
        row = load_draft_row(unit, note_id)
        note = row_to_note(unit.cipher, row)
        problems = signing_problems(note)
        if catalog.get(note.service_code) is None and note.service_code:
            problems.append("That service code is not in the agency's list.")
        if problems:
            raise NoteError("Before signing: " + " ".join(problems))
        note = note.model_copy(
            update={"status": NoteStatus.SIGNED, "signed_at": unit.now, "version": row.version + 1, "units": units_for(unit, note, catalog)}
        )
        write_note(unit, note, "sign")
    return note


def get_note(store: FieldStore, note_id: str) -> ContactNote:
    with store.unit() as unit:
        return row_to_note(unit.cipher, load_note_row(unit, note_id))


def discard_draft(store: FieldStore, note_id: str) -> None:
    """Delete an unsigned draft (and tell the agency to forget any copy it holds)."""
    with store.unit() as unit:
        unit.session.delete(load_draft_row(unit, note_id))
        unit.changed("discard_draft", Deletion(deleted_type="contact_note", deleted_id=note_id))


def add_addendum(store: FieldStore, note_id: str, text: str) -> Addendum:
    """A dated addition to a signed note; the note itself never changes."""
    if not text.strip():
        raise NoteError("Write the addendum before saving it.")
    with store.unit() as unit:
        if load_note_row(unit, note_id).status != NoteStatus.SIGNED.value:
            raise NoteError("Only a signed note takes an addendum: edit the draft instead.")
        addendum = Addendum(note_id=note_id, text=text, written_at=unit.now)
        unit.session.add(
            AddendumRow(id=addendum.id, note_id=note_id, text_enc=unit.cipher.encrypt("addendum", addendum.id, "text", text), written_at=unit.now)
        )
        search.add_words(unit, note_id, text)
        feedback.answered(unit, note_id)
        unit.changed("addendum", addendum)
    return addendum


def list_addenda(store: FieldStore, note_id: str) -> list[Addendum]:
    with store.unit() as unit:
        rows = unit.session.exec(select(AddendumRow).where(AddendumRow.note_id == note_id).order_by(col(AddendumRow.written_at))).all()
        return [
            Addendum(id=r.id, note_id=r.note_id, text=unit.cipher.decrypt("addendum", r.id, "text", r.text_enc), written_at=as_utc(r.written_at))
            for r in rows
        ]


def log_phone_contact(
    store: FieldStore,
    person_id: str,
    minutes: int,
    summary: str,
    *,
    ended_at: datetime,
    follow_up_on: date | None = None,
    service_code: str | None = None,
    catalog: ServiceCatalog | None = None,
) -> ContactNote:
    """The quick log peers use many times a day: saved and signed in one step."""
    catalog = catalog or service_catalog()
    if not 1 <= minutes <= 24 * 60:
        raise NoteError("Enter how many minutes the call took (1 or more).")
    if not summary.strip():
        raise NoteError("Write a short note about the call.")
    code = service_code or catalog.phone_default
    if catalog.get(code) is None:
        raise NoteError("That service code is not in the agency's list.")
    with store.unit() as unit:
        load_person_row(unit, person_id)
        note = ContactNote(
            kind=ContactKind.PHONE_QUICK,
            person_id=person_id,
            peer_id=store.peer_id,
            starts_at=ended_at - timedelta(minutes=minutes),
            ends_at=ended_at,
            mode=ContactMode.TELEPHONE,
            setting=ContactSetting.REMOTE,
            service_code=code,
            narrative=Narrative(intervention=summary),
            follow_up_on=follow_up_on,
            status=NoteStatus.SIGNED,
            signed_at=unit.now,
        )
        note = note.model_copy(update={"units": units_for(unit, note, catalog)})
        write_note(unit, note, "phone_contact")
    return note


def note_units(store: FieldStore, note_id: str) -> billing.NoteUnits:
    """Billable units for the note screen: the agency's figure once pulled (UnitsConfirmed), else
    the phone's own estimate, marked as one (`.words`: "About 3 units (estimate)")."""
    with store.unit() as unit:
        row = load_note_row(unit, note_id)
        return billing.NoteUnits.of(row.units, billing.confirmed_units(unit, note_id))


@dataclass(frozen=True)
class NoteDefaults:
    """What a new contact note starts with: how the peer last met this person."""

    mode: ContactMode | None = None
    setting: ContactSetting | None = None
    service_code: str = ""


def defaults_for_person(store: FieldStore, person_id: str) -> NoteDefaults:
    """Mode, setting and service of the latest contact note with this person (quick phone logs are
    left out: they have their own defaults); empty defaults for a first note."""
    with store.unit() as unit:
        row = unit.session.exec(
            select(ContactNoteRow.mode, ContactNoteRow.setting, ContactNoteRow.service_code)
            .where(ContactNoteRow.person_id == person_id, ContactNoteRow.kind != ContactKind.PHONE_QUICK.value)
            .order_by(col(ContactNoteRow.starts_at).desc())
            .limit(1)
        ).first()
    if row is None:
        return NoteDefaults()
    mode, setting, service_code = row
    return NoteDefaults(ContactMode(mode) if mode else None, ContactSetting(setting) if setting else None, service_code or "")
