"""What the agency server does, independent of HTTP: enrol, authenticate, ingest, pull, admin."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from sqlalchemy import insert, tuple_, update
from sqlmodel import Session, select

from fieldpeer.agency.tables import AccessEvent, Device, EnrolCode, FeedEntry, Peer, Person, ReceivedRecord
from fieldpeer.domain import PeerRole
from fieldpeer import records
from fieldpeer.records import AnyRecord, Id, PeerProfile, new_id, utc_now
from fieldpeer.sync.sealing import KeyPair, b64, unb64
from fieldpeer.sync.wire import EnrolRequest, EnrolResponse, EntryResult, EntryStatus, PullBatch, PushBatch, PushReceipt, Refusal

RECORD = TypeAdapter(AnyRecord)
PUSHABLE = {"person", "contact_note", "addendum", "wrap_plan", "checkin", "safety_alert", "consent", "deletion"}
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud and typed on a phone


class Refused(Exception):
    """A request the caller may not make. `code` is a wire.Refusal; the message is safe to show."""

    def __init__(self, code: Refusal, message: str, status: int) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def token_hash(token: str) -> str:
    # Tokens are 256-bit random, so a fast hash is enough (no dictionary to guess from).
    return hashlib.sha256(token.encode()).hexdigest()


def log_access(session: Session, action: str, outcome: str, *, device: Device | None = None, object_id: str = "", detail: str = "") -> None:
    session.add(
        AccessEvent(device_id=device.id if device else None, peer_id=device.peer_id if device else None, action=action, object_id=object_id, outcome=outcome, detail=detail)
    )


# --- Admin -------------------------------------------------------------------


def add_peer(session: Session, name: str, role: PeerRole, credentials: str = "", peer_id: str | None = None) -> Peer:
    peer = Peer(id=peer_id or new_id(), name=name, role=role.value, credentials=credentials)
    session.add(peer)
    return peer


def add_person(session: Session, peer_id: str, person: records.Person) -> Person:
    """Assign a person to a peer's caseload; their devices receive it on the next pull."""
    if session.get(Peer, peer_id) is None:
        raise LookupError(f"No peer with id {peer_id}.")
    payload = person.model_dump_json()
    row = Person(id=person.id, peer_id=peer_id, version=person.version, payload=payload)
    session.add(row)
    session.add(FeedEntry(peer_id=peer_id, record_type="person", record_id=person.id, payload=payload))
    return row


def publish_to_peer(session: Session, peer_id: str, record: records.Record) -> None:
    """Queue any record (a plan, feedback) for a peer's devices."""
    session.add(FeedEntry(peer_id=peer_id, record_type=getattr(record, "record_type"), record_id=record.id, payload=record.model_dump_json()))


def create_enrol_code(session: Session, peer_id: str, ttl: timedelta = timedelta(hours=24), now: datetime | None = None) -> str:
    if session.get(Peer, peer_id) is None:
        raise LookupError(f"No peer with id {peer_id}.")
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    session.add(EnrolCode(code_hash=token_hash(raw), peer_id=peer_id, expires_at=(now or utc_now()) + ttl))
    return "-".join(raw[i : i + 4] for i in range(0, 12, 4))


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def revoke_device(session: Session, device_id: str) -> Device:
    device = session.get(Device, device_id)
    if device is None:
        raise LookupError(f"No device with id {device_id}.")
    if device.revoked_at is None:
        device.revoked_at = utc_now()
        session.add(device)
        log_access(session, "revoke_device", "ok", device=device, object_id=device_id)
    return device


# --- Devices -----------------------------------------------------------------


def enrol(session: Session, request: EnrolRequest, agency: KeyPair) -> EnrolResponse:
    now = utc_now()
    code = session.get(EnrolCode, token_hash(normalise_code(request.code)))
    if code is None or code.used_at is not None or code.expires_at < now:
        log_access(session, "enrol", "refused", detail="bad_or_used_code")
        raise Refused(Refusal.ENROL_CODE_INVALID, "That enrolment code is not valid. Ask your supervisor for a new one.", 403)
    try:
        box, sign = unb64(request.device_box_key), unb64(request.device_sign_key)
    except ValueError as exc:
        raise Refused(Refusal.ENROL_CODE_INVALID, "The device keys are malformed.", 422) from exc
    if len(box) != 32 or len(sign) != 32:
        raise Refused(Refusal.ENROL_CODE_INVALID, "The device keys are malformed.", 422)
    peer = session.get(Peer, code.peer_id)
    assert peer is not None
    token = secrets.token_urlsafe(32)
    device = Device(id=new_id(), peer_id=peer.id, name=request.device_name, token_hash=token_hash(token), box_key=b64(box), sign_key=b64(sign))
    code.used_at = now
    session.add_all([code, device])
    log_access(session, "enrol", "ok", device=device, object_id=device.id)
    agency_public = agency.public
    return EnrolResponse(
        device_id=device.id,
        token=token,
        agency_box_key=b64(agency_public.box),
        agency_sign_key=b64(agency_public.sign),
        peer=PeerProfile(id=peer.id, name=peer.name, role=PeerRole(peer.role), credentials=peer.credentials),
    )


def authenticate(session: Session, authorization: str | None, action: str, idle_limit: timedelta | None = None) -> Device:
    """The device behind a bearer token. A token unused for `idle_limit` expires: a phone lost
    in a drawer for months cannot sync into the agency's records when it turns up."""
    token = (authorization or "").removeprefix("Bearer ").strip()
    device = session.exec(select(Device).where(Device.token_hash == token_hash(token))).first() if token else None
    if device is None:
        log_access(session, action, "refused", detail="unauthenticated")
        raise Refused(Refusal.UNAUTHENTICATED, "This device is not enrolled with the agency.", 401)
    if device.revoked_at is not None:
        log_access(session, action, "refused", device=device, detail="revoked")
        raise Refused(Refusal.DEVICE_REVOKED, "This device was revoked by the agency. Its local data must be erased.", 403)
    now = utc_now()
    if idle_limit is not None and now - (device.last_seen_at or device.enrolled_at) > idle_limit:
        log_access(session, action, "refused", device=device, detail="expired")
        raise Refused(Refusal.TOKEN_EXPIRED, "This device has not synced for too long. Ask your supervisor to enrol it again.", 401)
    device.last_seen_at = now
    session.add(device)
    return device


# --- Push ----------------------------------------------------------------------


@dataclass
class _Candidate:
    entry_id: str
    record: Any
    payload: str


def _invalid_reason(exc: ValidationError) -> str:
    # Only where and what kind of problem: pydantic messages may quote the (sensitive) input.
    first = exc.errors(include_input=False, include_url=False)[0]
    return "invalid:" + ".".join(str(p) for p in first["loc"]) + ":" + first["type"]


def _person_ids(record: Any) -> list[str]:
    if record.record_type == "person":
        return [record.id]
    if record.record_type == "contact_note":
        return [p for p in [record.person_id, *record.attendee_ids] if p]
    return [record.person_id] if getattr(record, "person_id", None) else []


class _TypedEntry(BaseModel):
    entry_id: Id
    record: AnyRecord


class _TypedBatch(BaseModel):
    batch_id: Id
    entries: list[_TypedEntry] = Field(max_length=5000)


@dataclass
class ParsedBatch:
    batch_id: str
    entries: list[tuple[str, Any]]  # (entry id, validated record or the rejection reason)


def parse_batch(plaintext: bytes) -> ParsedBatch:
    """Validate a whole batch in one pass (fast); if any record is malformed, fall back to
    validating entry by entry so only the bad ones are rejected. Raises ValidationError when
    the batch itself (not a record) is malformed."""
    try:
        typed = _TypedBatch.model_validate_json(plaintext)
        return ParsedBatch(typed.batch_id, [(e.entry_id, e.record) for e in typed.entries])
    except ValidationError:
        loose = PushBatch.model_validate_json(plaintext)
    entries: list[tuple[str, Any]] = []
    for entry in loose.entries:
        try:
            entries.append((entry.entry_id, RECORD.validate_python(entry.record)))
        except ValidationError as exc:
            entries.append((entry.entry_id, _invalid_reason(exc)))
    return ParsedBatch(loose.batch_id, entries)


def ingest(session: Session, device: Device, batch: ParsedBatch) -> PushReceipt:
    """Store each record of a batch exactly once, in one transaction, and say what became of each."""
    results: dict[str, EntryResult] = {}
    entry_ids = [entry_id for entry_id, _ in batch.entries]
    known = set(session.exec(select(ReceivedRecord.entry_id).where(ReceivedRecord.entry_id.in_(entry_ids))).all())  # type: ignore[attr-defined]

    candidates: list[_Candidate] = []
    for entry_id, record in batch.entries:
        if entry_id in known or entry_id in results:
            results[entry_id] = EntryResult(entry_id=entry_id, status=EntryStatus.DUPLICATE)
            continue
        if isinstance(record, str):
            results[entry_id] = EntryResult(entry_id=entry_id, status=EntryStatus.REJECTED, reason=record)
            continue
        if record.record_type not in PUSHABLE:
            results[entry_id] = EntryResult(entry_id=entry_id, status=EntryStatus.REJECTED, reason=f"not_pushable:{record.record_type}")
            continue
        results[entry_id] = EntryResult(entry_id=entry_id, status=EntryStatus.STORED)
        candidates.append(_Candidate(entry_id, record, record.model_dump_json()))

    # Who owns the persons these records are about, and which notes this peer has.
    person_ids = {p for c in candidates for p in _person_ids(c.record)}
    owners = dict(session.exec(select(Person.id, Person.peer_id).where(Person.id.in_(person_ids))).all()) if person_ids else {}  # type: ignore[attr-defined,call-overload]
    person_versions = dict(session.exec(select(Person.id, Person.version).where(Person.id.in_(person_ids))).all()) if person_ids else {}  # type: ignore[attr-defined,call-overload]
    note_ids = {c.record.note_id for c in candidates if c.record.record_type == "addendum"} | {
        c.record.deleted_id for c in candidates if c.record.record_type == "deletion"
    }
    note_owner = (
        dict(session.exec(select(ReceivedRecord.record_id, ReceivedRecord.peer_id).where(ReceivedRecord.record_type == "contact_note", ReceivedRecord.record_id.in_(note_ids))).all())  # type: ignore[attr-defined,call-overload]
        if note_ids
        else {}
    )
    keys = [(c.record.record_type, c.record.id, int(getattr(c.record, "version", 1))) for c in candidates]
    existing_versions = (
        set(session.exec(select(ReceivedRecord.record_type, ReceivedRecord.record_id, ReceivedRecord.version).where(tuple_(ReceivedRecord.record_type, ReceivedRecord.record_id, ReceivedRecord.version).in_(keys))).all())  # type: ignore[call-overload]
        if keys
        else set()
    )

    rows: list[dict[str, Any]] = []
    new_persons: list[dict[str, Any]] = []
    now = utc_now()
    for candidate in candidates:
        record, entry_id = candidate.record, candidate.entry_id
        version = int(getattr(record, "version", 1))

        def reject(reason: str) -> None:
            results[entry_id] = EntryResult(entry_id=entry_id, status=EntryStatus.REJECTED, reason=reason)

        if (record.record_type, record.id, version) in existing_versions:
            results[entry_id] = EntryResult(entry_id=entry_id, status=EntryStatus.DUPLICATE)
            continue
        foreign = [p for p in _person_ids(record) if owners.get(p, device.peer_id) != device.peer_id]
        if foreign:
            reject("not_your_caseload:" + foreign[0])
            continue
        if record.record_type in ("contact_note",) and record.peer_id not in ("", device.peer_id):
            reject("peer_mismatch")
            continue
        if record.record_type == "addendum" and note_owner.get(record.note_id) != device.peer_id:
            reject("unknown_note:" + record.note_id)
            continue
        if record.record_type == "deletion" and note_owner.get(record.deleted_id, device.peer_id) != device.peer_id:
            reject("not_your_record:" + record.deleted_id)
            continue
        if record.record_type == "person":
            current = person_versions.get(record.id)
            if current is not None and version <= current:
                reject(f"stale_version:{version}<={current}")
                continue
            if current is None:
                new_persons.append(dict(id=record.id, peer_id=device.peer_id, version=version, payload=candidate.payload, updated_at=now))
            else:
                session.execute(update(Person).where(Person.id == record.id).values(version=version, payload=candidate.payload, updated_at=now))  # type: ignore[arg-type]
            owners[record.id] = device.peer_id
            person_versions[record.id] = version
        if record.record_type == "contact_note":
            note_owner[record.id] = device.peer_id
        existing_versions.add((record.record_type, record.id, version))
        rows.append(
            dict(
                entry_id=entry_id, record_type=record.record_type, record_id=record.id, version=version,
                person_id=(_person_ids(record) or [None])[0], peer_id=device.peer_id, device_id=device.id,
                batch_id=batch.batch_id, received_at=now, payload=candidate.payload,
            )
        )
    # Core inserts (executemany): the ORM's bulk path costs more than the database here.
    if new_persons:
        session.connection().execute(insert(Person.__table__), new_persons)  # type: ignore[arg-type]
    if rows:
        session.connection().execute(insert(ReceivedRecord.__table__), rows)  # type: ignore[arg-type]
    counts = {s: sum(1 for r in results.values() if r.status is s) for s in EntryStatus}
    log_access(session, "push", "ok", device=device, object_id=batch.batch_id, detail=" ".join(f"{s.value}={n}" for s, n in counts.items()))
    return PushReceipt(batch_id=batch.batch_id, results=[results[e] for e in entry_ids if e in results])


# --- Pull ------------------------------------------------------------------------


def pull(session: Session, device: Device, cursor: int, limit: int = 500) -> PullBatch:
    rows = session.exec(
        select(FeedEntry).where(FeedEntry.peer_id == device.peer_id, FeedEntry.seq > cursor).order_by(FeedEntry.seq).limit(limit + 1)  # type: ignore[arg-type,operator]
    ).all()
    page = rows[:limit]
    log_access(session, "pull", "ok", device=device, object_id=str(cursor), detail=f"records={len(page)}")
    return PullBatch(cursor=page[-1].seq if page else cursor, more=len(rows) > limit, records=[json.loads(r.payload) for r in page])  # type: ignore[misc]


def received_records(session: Session, peer_id: str | None = None, record_type: str | None = None) -> list[ReceivedRecord]:
    query = select(ReceivedRecord).order_by(ReceivedRecord.seq)  # type: ignore[arg-type]
    if peer_id:
        query = query.where(ReceivedRecord.peer_id == peer_id)
    if record_type:
        query = query.where(ReceivedRecord.record_type == record_type)
    return list(session.exec(query).all())
