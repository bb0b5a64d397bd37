"""What the agency server does, independent of HTTP: enrol, authenticate, ingest, pull, admin."""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from sqlalchemy import and_, bindparam, case, exists, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from fieldpeer import records
from fieldpeer.agency import bulk, invariants
from fieldpeer.agency.tables import AccessEvent, Administrator, Device, EnrolCode, FeedEntry, NoteReview, Peer, Person, ReceivedRecord, Supervisor
from fieldpeer.domain import PeerRole
from fieldpeer.records import AnyRecord, Id, PeerProfile, new_id, utc_now
from fieldpeer.sync.sealing import KeyPair, b64, unb64
from fieldpeer.sync.wire import EnrolRequest, EnrolResponse, EntryStatus, PullBatch, PushBatch, PushReceipt, Refusal

RECORD = TypeAdapter(AnyRecord)
PUSHABLE = invariants.PUSHABLE  # pulled-only records (peer, note_feedback, alert_status, units_confirmed) never are
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


# --- People's accounts (supervisors, administrators): a bearer token each --------------------------

Account = TypeVar("Account", Supervisor, Administrator)
KIND: dict[type[Supervisor] | type[Administrator], str] = {Supervisor: "supervisor", Administrator: "administrator"}


def authenticate_account(session: Session, kind: type[Account], authorization: str | None, action: str, *, unknown: str, closed: str) -> Account:
    """The supervisor or administrator behind a bearer token. A refusal is access-logged with the
    account's kind (`unauthenticated_supervisor`, `revoked_administrator:<id>`) and says `unknown`
    (no such token, 401) or `closed` (the account was closed, 403)."""
    token = (authorization or "").removeprefix("Bearer ").strip()
    account = session.exec(select(kind).where(kind.token_hash == token_hash(token))).first() if token else None
    if account is None:
        log_access(session, action, "refused", detail=f"unauthenticated_{KIND[kind]}")
        raise Refused(Refusal.UNAUTHENTICATED, unknown, 401)
    if account.revoked_at is not None:
        log_access(session, action, "refused", detail=f"revoked_{KIND[kind]}:{account.id}")
        raise Refused(Refusal.ACCESS_REVOKED, closed, 403)
    return account


class RefusalTally:
    """Refusals of callers nobody knows cost the caller nothing, so they must not cost the
    database a row each: the first refusal per action and reason in a window is logged, the
    rest are counted in memory and logged as one row when the next window opens. Keys are
    route actions and fixed reason codes, never caller input, so the tally stays small."""

    def __init__(self, window_seconds: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.window, self.clock = window_seconds, clock
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], tuple[float, int]] = {}  # key -> (window start, refusals not logged)

    def admit(self, action: str, reason: str) -> tuple[bool, int]:
        """(log this refusal?, refusals left unlogged in the window that just closed)."""
        now = self.clock()
        with self._lock:
            started, unlogged = self._windows.get((action, reason), (None, 0))
            if started is None or now - started >= self.window:
                self._windows[(action, reason)] = (now, 0)
                return True, unlogged
            self._windows[(action, reason)] = (started, unlogged + 1)
            return False, 0


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


def publish_to_peer(session: Session, peer_id: str, record: AnyRecord) -> None:
    """Queue any record (a plan, feedback) for a peer's devices."""
    session.add(FeedEntry(peer_id=peer_id, record_type=record.record_type, record_id=record.id, payload=record.model_dump_json()))


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
    person_ids: list[str]  # every person the record is about (_person_ids), worked out once


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


MAX_ENTRIES = 1000  # phones send 200 at a time (wire.PushBatch allows 5,000: the agency is stricter)
# Every container opens with { or [, and every value after the first in a container follows a
# comma: these bound the objects a parse may build. Commas followed by a space are counted apart:
# prose is full of them (inside strings, one value each), so they get a looser bound; a list
# spaced out the same way is cheap per item and bounded by it too. Honest records hold 30 (a
# note) to about 100 (a full WRAP) values; the worst batches allowed are measured in
# benchmarks/hostile_batch.py.
MAX_JSON_VALUES = 100_000
MAX_SPACED_COMMAS = 200_000


def json_values_bound(plaintext: bytes) -> tuple[int, int]:
    """(values after a comma and a space, all other values): upper bounds, counted in C."""
    spaced = plaintext.count(b", ")
    return spaced, plaintext.count(b"{") + plaintext.count(b"[") + plaintext.count(b",") - spaced


class BatchTooBig(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def check_batch_shape(plaintext: bytes) -> None:
    """Refuse a batch too big to parse before parsing it (a million tiny entries once took 1.4 GB
    and seven seconds to refuse, and pydantic holds the GIL while it parses). Byte counts in C:
    a few milliseconds for the largest batch allowed. The entry count is exact for FieldPeer's
    own JSON; a key spelled with escapes slips past it, never past the value bound."""
    if plaintext.count(b'"entry_id"') > MAX_ENTRIES:
        raise BatchTooBig("too_many_entries", f"A batch holds at most {MAX_ENTRIES:,} entries. Sync sends smaller batches.")
    spaced, values = json_values_bound(plaintext)
    if values > MAX_JSON_VALUES or spaced > MAX_SPACED_COMMAS:
        raise BatchTooBig("too_complex", "The batch holds too many values to read at once. Sync sends smaller batches.")


class _TypedEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")  # as wire.PushEntry: an entry is its id and its record, nothing else
    entry_id: Id
    record: AnyRecord


class _TypedBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    batch_id: Id
    entries: list[_TypedEntry] = Field(max_length=MAX_ENTRIES)


@dataclass
class ParsedBatch:
    batch_id: str
    entries: list[tuple[str, Any]]  # (entry id, validated record or the rejection reason)
    received: list[str | None] = field(default_factory=list)  # each record's JSON as received, where it could be kept (records_as_received)


KEPT_AS_RECEIVED = frozenset({"contact_note"})  # the bulk of every push; other records are stored re-serialised (canonical)


def records_as_received(plaintext: bytes, entry_ids: list[str]) -> list[str | None]:
    """Each entry's record exactly as the device sent it, cut out of a batch that validated whole,
    where the batch is laid out as FieldPeer writes it: compact, `{"entry_id":"<id>","record":{...}}`
    entries one after another, the batch ending `}]}`. None where that is not certain (spaces,
    other key orders, escapes in an id): that record is re-serialised instead.

    Why the cut is exact: ids match the Id pattern (no escapes), no record has a field named
    `entry_id` or `record` (extra fields are refused), and inside a JSON string every quote is
    escaped, so `"entry_id":` and `"record":` appear nowhere inside a record; an entry holds no
    other key (extra="forbid"), and a repeated key would put one of them inside the cut."""
    found: list[tuple[int, int]] = []
    at = 0
    for entry_id in entry_ids:
        prefix = b'{"entry_id":"' + entry_id.encode() + b'","record":'
        start = plaintext.find(prefix, at)
        if start < 0:
            return [None] * len(entry_ids)
        at = start + len(prefix)
        found.append((start, at))
    # A record ends where "}," (its entry's close, a comma) precedes the next entry, or "}]}" ends the batch.
    stops = [(start - 2, b"},") for start, _ in found[1:]] + [(len(plaintext) - 3, b"}]}")]
    kept: list[str | None] = []
    for (_, begin), (stop, closer) in zip(found, stops, strict=True):
        piece = plaintext[begin:stop]
        exact = plaintext[stop : stop + len(closer)] == closer and piece[:1] == b"{" and piece[-1:] == b"}"
        kept.append(piece.decode() if exact and b'"record":' not in piece and b'"entry_id":' not in piece else None)
    return kept


def parse_batch(plaintext: bytes) -> ParsedBatch:
    """Validate a whole batch in one pass (fast); if any record is malformed, fall back to
    validating entry by entry so only the bad ones are rejected. Raises ValidationError when
    the batch itself (not a record) is malformed."""
    try:
        typed = _TypedBatch.model_validate_json(plaintext)
        entries = [(e.entry_id, e.record) for e in typed.entries]
        kept = records_as_received(plaintext, [e.entry_id for e in typed.entries]) if any(e.record.record_type in KEPT_AS_RECEIVED for e in typed.entries) else []
        return ParsedBatch(typed.batch_id, entries, kept)
    except ValidationError as exc:
        if exc.error_count() > MAX_ENTRIES or any(e["type"] == "too_long" and e["loc"] == ("entries",) for e in exc.errors(include_input=False, include_url=False)):
            raise BatchTooBig("too_many_entries", f"A batch holds at most {MAX_ENTRIES:,} entries. Sync sends smaller batches.") from None
        loose = PushBatch.model_validate_json(plaintext)
        if len(loose.entries) > MAX_ENTRIES:
            raise BatchTooBig("too_many_entries", f"A batch holds at most {MAX_ENTRIES:,} entries. Sync sends smaller batches.") from None
    checked: list[tuple[str, Any]] = []  # each entry's record, or why it was refused
    for entry in loose.entries:
        try:
            checked.append((entry.entry_id, RECORD.validate_python(entry.record)))
        except ValidationError as exc:
            checked.append((entry.entry_id, _invalid_reason(exc)))
    return ParsedBatch(loose.batch_id, checked)


def _held(session: Session, keys: set[tuple[str, str]]) -> dict[tuple[str, str], invariants.Held]:
    """Who first wrote each (type, id) and where it stands (one query, by the unique index)."""
    if not keys:
        return {}
    # A note was signed when it joined the review queue (review.on_stored, in the same transaction
    # as the note): a key lookup, and no reliance on how the stored JSON is spelled.
    signed = and_(col(ReceivedRecord.record_type) == "contact_note", exists().where(col(NoteReview.note_id) == col(ReceivedRecord.record_id)))
    rows = session.execute(  # SQLAlchemy's select: sqlmodel's overloads stop at four columns
        sa_select(
            col(ReceivedRecord.record_type), col(ReceivedRecord.record_id), col(ReceivedRecord.version),
            col(ReceivedRecord.peer_id), col(ReceivedRecord.device_id), col(ReceivedRecord.person_id), case((signed, 1), else_=0),
        )
        # Two plain INs on the unique index's leading columns (a row-value IN made SQLite scan the
        # whole table); the few extra (type, id) pairs this matches are dropped below.
        .where(col(ReceivedRecord.record_type).in_({t for t, _ in keys}), col(ReceivedRecord.record_id).in_({i for _, i in keys}))
        .order_by(col(ReceivedRecord.seq))
    ).all()
    held: dict[tuple[str, str], invariants.Held] = {}
    for record_type, record_id, version, peer_id, device_id, person_id, is_signed in rows:
        if (record_type, record_id) not in keys:
            continue
        entry = held.setdefault((record_type, record_id), invariants.Held(peer_id, device_id, person_id))  # the first writer owns it
        entry.versions.add(version)
        entry.signed = entry.signed or bool(is_signed)
    return held


def _stored_payloads(session: Session, keys: list[tuple[str, str, int]]) -> dict[tuple[str, str, int], str]:
    if not keys:
        return {}
    rows = session.exec(
        select(ReceivedRecord.record_type, ReceivedRecord.record_id, ReceivedRecord.version, ReceivedRecord.payload).where(
            col(ReceivedRecord.record_type).in_({t for t, _, _ in keys}), col(ReceivedRecord.record_id).in_({i for _, i, _ in keys})
        )
    ).all()
    wanted = set(keys)
    return {(t, i, v): p for t, i, v, p in rows if (t, i, v) in wanted}


def _alerts_naming(session: Session, checkin_ids: set[str]) -> dict[str, list[invariants.Held]]:
    """Stored safety alerts that name these check-ins (alerts may arrive first). Alerts are few."""
    found: dict[str, list[invariants.Held]] = {}
    ids = sorted(checkin_ids)
    for start in range(0, len(ids), 200):
        chunk = ids[start : start + 200]
        rows = session.exec(
            select(ReceivedRecord.payload, ReceivedRecord.peer_id, ReceivedRecord.device_id, ReceivedRecord.person_id).where(
                ReceivedRecord.record_type == "safety_alert", or_(*[col(ReceivedRecord.payload).contains(f'"checkin_id":"{c}"', autoescape=True) for c in chunk])
            )
        ).all()
        for payload, peer_id, device_id, person_id in rows:
            checkin_id = json.loads(payload).get("checkin_id")
            if checkin_id in checkin_ids:
                found.setdefault(checkin_id, []).append(invariants.Held(peer_id, device_id, person_id))
    return found


def _goal_persons(session: Session, goal_ids: set[str]) -> dict[str, str]:
    """goal id -> the person whose plan holds it, for goals not found on the note's own person."""
    found: dict[str, str] = {}
    ids = sorted(goal_ids)
    for start in range(0, len(ids), 200):
        chunk = ids[start : start + 200]
        rows = session.exec(select(Person.id, Person.payload).where(or_(*[col(Person.payload).contains(f'"id":"{g}"', autoescape=True) for g in chunk]))).all()
        for person_id, payload in rows:
            for goal in json.loads(payload).get("goals", []):
                if goal.get("id") in goal_ids:
                    found[goal["id"]] = person_id
    return found


def _goal_ids(payload: str | None) -> set[str]:
    return {g["id"] for g in json.loads(payload).get("goals", [])} if payload else set()


def store_batch(session: Session, device: Device, batch: ParsedBatch) -> PushReceipt:
    """Store each record of a batch exactly once, in one transaction, and say what became of each.
    Every rule of fieldpeer/agency/invariants.py is checked first; a refused record is rejected
    alone (the phone quarantines it) and nothing the agency holds changes."""
    results: dict[str, tuple[EntryStatus, str]] = {}  # entry id -> (status, reason): one receipt validation at the end
    entry_ids = [entry_id for entry_id, _ in batch.entries]
    known = set(session.exec(select(ReceivedRecord.entry_id).where(col(ReceivedRecord.entry_id).in_(entry_ids))).all())

    candidates: list[_Candidate] = []
    received = batch.received or [None] * len(batch.entries)
    for (entry_id, record), as_received in zip(batch.entries, received, strict=True):
        if entry_id in known or entry_id in results:
            results[entry_id] = (EntryStatus.DUPLICATE, "")
            continue
        if isinstance(record, str):
            results[entry_id] = (EntryStatus.REJECTED, record)
            continue
        if record.record_type not in PUSHABLE:
            results[entry_id] = (EntryStatus.REJECTED, f"not_pushable:{record.record_type}")
            continue
        results[entry_id] = (EntryStatus.STORED, "")
        original = as_received if record.record_type in KEPT_AS_RECEIVED else None
        candidates.append(_Candidate(entry_id, record, original or record.model_dump_json(), _person_ids(record)))

    # What the agency already holds about these records and everything they refer to: a fixed
    # number of queries per batch (this is the sync hot path).
    person_ids = {p for c in candidates for p in c.person_ids}
    person_rows = session.exec(select(Person.id, Person.peer_id, Person.version, Person.payload).where(col(Person.id).in_(person_ids))).all() if person_ids else []
    persons = {pid: (peer, version, payload) for pid, peer, version, payload in person_rows}  # id -> (assigned peer, version, payload)
    keys = {(c.record.record_type, c.record.id) for c in candidates}
    for c in candidates:
        r = c.record
        if r.record_type == "addendum":
            keys.add(("contact_note", r.note_id))
        elif r.record_type == "deletion":
            keys.add((r.deleted_type, r.deleted_id))
        elif r.record_type == "safety_alert":
            keys.add(("checkin", r.checkin_id))
        elif r.record_type == "checkin" and r.wrap_plan_id:
            keys.add(("wrap_plan", r.wrap_plan_id))
    held = _held(session, keys)
    collisions = [(c.record.record_type, c.record.id, int(getattr(c.record, "version", 1))) for c in candidates]
    stored_payloads = _stored_payloads(session, [k for k in collisions if (h := held.get(k[:2])) is not None and k[2] in h.versions])
    checkins = {c.record.id for c in candidates if c.record.record_type == "checkin"}
    naming = _alerts_naming(session, checkins) if checkins else {}
    own_goals = {pid: _goal_ids(payload) for pid, (_, _, payload) in persons.items()}
    strays = {g for c in candidates if c.record.record_type == "contact_note" for g in c.record.goal_ids if g not in own_goals.get(c.record.person_id or "", set())}
    goal_persons = _goal_persons(session, strays) if strays else {}

    rows: list[dict[str, Any]] = []
    new_persons: list[dict[str, Any]] = []
    person_updates: list[dict[str, Any]] = []  # in arrival order, after new_persons: a walk-in may be edited in its own batch
    now = utc_now()
    peer_id, device_id = device.peer_id, device.id  # plain locals: ORM attribute reads cost in this loop
    mine = (peer_id, device_id)
    for candidate in candidates:
        record, entry_id = candidate.record, candidate.entry_id
        record_type, version = record.record_type, int(getattr(record, "version", 1))
        person_id: str | None = candidate.person_ids[0] if candidate.person_ids else None

        def reject(reason: str, entry_id: str = entry_id) -> None:
            results[entry_id] = (EntryStatus.REJECTED, reason)

        foreign = [p for p in candidate.person_ids if persons.get(p, mine)[0] != peer_id]
        if foreign:
            reject("not_your_caseload:" + foreign[0])
            continue
        mine_held = held.get((record_type, record.id))
        if record_type != "person" and (refusal := invariants.ownership_refusal(mine_held, *mine)):
            reject(refusal)
            continue
        if mine_held is not None and version in mine_held.versions:
            payload = candidate.payload
            if record_type == "person" and record.id in persons:
                payload = invariants.merge_person(records.Person.model_validate_json(persons[record.id][2]), record)[0].model_dump_json()
            held_payload = stored_payloads.get((record_type, record.id, version))
            if held_payload is None or held_payload == payload or (record_type in KEPT_AS_RECEIVED and RECORD.validate_json(held_payload) == record):  # the same record spelled otherwise
                results[entry_id] = (EntryStatus.DUPLICATE, "")
            else:
                reject(f"version_conflict:{version}")
            continue
        if record_type != "person" and (refusal := invariants.change_refusal(record_type, mine_held, version, person_id)):
            reject(refusal)
            continue
        kept: list[str] = []
        if record_type == "contact_note":
            if record.peer_id not in ("", peer_id):
                reject("peer_mismatch")
                continue
            if record.goal_ids and (stray := invariants.foreign_goals(record, own_goals.get(record.person_id or "", set()), goal_persons)):
                reject("foreign_reference:goal:" + stray[0])
                continue
        elif record_type == "addendum":
            note = held.get(("contact_note", record.note_id))
            if refusal := invariants.addendum_refusal(note, peer_id):
                reject(refusal)
                continue
            person_id = note.person_id if note else None
        elif record_type == "deletion":
            if refusal := invariants.deletion_refusal(record.deleted_type, held.get((record.deleted_type, record.deleted_id)), *mine):
                reject(refusal)
                continue
        elif record_type == "safety_alert":
            if refusal := invariants.reference_refusal("checkin", held.get(("checkin", record.checkin_id)), peer_id, record.person_id):
                reject(refusal)
                continue
        elif record_type == "checkin":
            alerts = naming.get(record.id, [])
            if refusal := next(filter(None, (invariants.reference_refusal("safety_alert", a, peer_id, record.person_id) for a in alerts)), None):
                reject(refusal)
                continue
            if record.wrap_plan_id and (refusal := invariants.reference_refusal("wrap_plan", held.get(("wrap_plan", record.wrap_plan_id)), peer_id, record.person_id)):
                reject(refusal)
                continue
        elif record_type == "person":
            current = persons.get(record.id)
            if current is not None and version <= current[1]:
                reject(f"stale_version:{version}<={current[1]}")
                continue
            if current is None:  # a walk-in the phone added: its first values are a proposal the agency reviews
                new_persons.append(dict(id=record.id, peer_id=peer_id, version=version, payload=candidate.payload, updated_at=now))
            else:
                merged, kept = invariants.merge_person(records.Person.model_validate_json(current[2]), record)
                candidate.payload = merged.model_dump_json()
                person_version = version
                if kept:  # the phone shows the agency's values again after its next pull
                    person_version = version + 1
                    publish_to_peer(session, peer_id, merged.model_copy(update={"version": person_version}))
                person_updates.append({"pid": record.id, "v": person_version, "p": candidate.payload, "at": now})
            persons[record.id] = (peer_id, version + (1 if kept else 0), candidate.payload)
            own_goals[record.id] = {g.id for g in record.goals}

        # Accepted: later entries of this batch see it as held.
        entry = held.setdefault((record_type, record.id), invariants.Held(peer_id, device_id, person_id))
        entry.versions.add(version)
        entry.signed = entry.signed or (record_type == "contact_note" and record.status.value == "signed")
        if record_type == "safety_alert":
            naming.setdefault(record.checkin_id, []).append(invariants.Held(peer_id, device_id, record.person_id))
        if kept:
            results[entry_id] = (EntryStatus.STORED, "agency_fields_kept:" + ",".join(kept))
        rows.append(
            dict(
                entry_id=entry_id, record_type=record_type, record_id=record.id, version=version,
                person_id=person_id, peer_id=peer_id, device_id=device_id,
                batch_id=batch.batch_id, received_at=now, payload=candidate.payload,
            )
        )
    # The driver's executemany: SQLAlchemy's per-row parameter handling cost more than the database here.
    bulk.insert_rows(session, Person, new_persons)
    if person_updates:
        session.connection().execute(
            update(Person).where(col(Person.id) == bindparam("pid")).values(version=bindparam("v"), payload=bindparam("p"), updated_at=bindparam("at")), person_updates
        )
    bulk.insert_rows(session, ReceivedRecord, rows)
    counts = Counter(status for status, _ in results.values())
    log_access(session, "push", "ok", device=device, object_id=batch.batch_id, detail=" ".join(f"{s.value}={counts[s]}" for s in EntryStatus))
    return PushReceipt.model_validate(
        {"batch_id": batch.batch_id, "results": [{"entry_id": e, "status": results[e][0], "reason": results[e][1]} for e in entry_ids if e in results]}
    )


# --- Pull ------------------------------------------------------------------------


def pull(session: Session, device: Device, cursor: int, limit: int = 500) -> PullBatch:
    rows = session.exec(
        select(FeedEntry).where(FeedEntry.peer_id == device.peer_id, col(FeedEntry.seq) > cursor).order_by(col(FeedEntry.seq)).limit(limit + 1)
    ).all()
    page = rows[:limit]
    log_access(session, "pull", "ok", device=device, object_id=str(cursor), detail=f"records={len(page)}")
    return PullBatch(cursor=page[-1].seq if page else cursor, more=len(rows) > limit, records=[json.loads(r.payload) for r in page])


def received_records(session: Session, peer_id: str | None = None, record_type: str | None = None) -> list[ReceivedRecord]:
    query = select(ReceivedRecord).order_by(col(ReceivedRecord.seq))
    if peer_id:
        query = query.where(ReceivedRecord.peer_id == peer_id)
    if record_type:
        query = query.where(ReceivedRecord.record_type == record_type)
    return list(session.exec(query).all())
