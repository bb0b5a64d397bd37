"""Supervision: supervisors review signed notes, co-sign them or return them with a comment,
and acknowledge urgent safety alerts. Feedback reaches the peer's phones through the feed.

Supervisors are agency-wide (every peer's notes). They authenticate with their own bearer
token, never a device's.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import insert
from sqlmodel import Session, col, select

from fieldpeer.agency import service
from fieldpeer.agency.service import ParsedBatch, Refused, log_access, publish_to_peer, token_hash
from fieldpeer.agency.tables import AlertAcknowledgement, Device, NoteReview, Peer, Person, ReceivedRecord, Supervisor
from fieldpeer.domain import ReviewState, review_after_addendum
from fieldpeer.records import NoteFeedback, new_id, utc_now
from fieldpeer.sync.wire import EntryStatus, PushReceipt, Refusal


# Free text stored in the agency's own columns: no control characters (PostgreSQL refuses NUL).
NO_CONTROLS = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


def signed_name(person: Peer | Supervisor | None) -> str:
    """How a peer or supervisor signs: "Dana Reyes, LCSW" (the name alone without credentials)."""
    return ", ".join(filter(None, [person.name, person.credentials])) if person else ""


# --- Accounts ------------------------------------------------------------------------


def add_supervisor(session: Session, name: str, credentials: str = "") -> tuple[Supervisor, str]:
    """A supervisor account; returns it and its token (shown once, stored only as a hash)."""
    token = secrets.token_urlsafe(32)
    supervisor = Supervisor(id=new_id(), name=name, credentials=credentials, token_hash=token_hash(token))
    session.add(supervisor)
    return supervisor, token


def revoke_supervisor(session: Session, supervisor_id: str) -> Supervisor:
    supervisor = session.get(Supervisor, supervisor_id)
    if supervisor is None:
        raise LookupError(f"No supervisor with id {supervisor_id}.")
    supervisor.revoked_at = supervisor.revoked_at or utc_now()
    session.add(supervisor)
    log_access(session, "revoke_supervisor", "ok", object_id=supervisor_id)
    return supervisor


def authenticate(session: Session, authorization: str | None, action: str) -> Supervisor:
    token = (authorization or "").removeprefix("Bearer ").strip()
    supervisor = session.exec(select(Supervisor).where(Supervisor.token_hash == token_hash(token))).first() if token else None
    if supervisor is None:
        log_access(session, action, "refused", detail="unauthenticated_supervisor")
        raise Refused(Refusal.UNAUTHENTICATED, "Sign in as a supervisor to see this.", 401)
    if supervisor.revoked_at is not None:
        log_access(session, action, "refused", detail=f"revoked_supervisor:{supervisor.id}")
        raise Refused(Refusal.ACCESS_REVOKED, "This supervisor account was closed.", 403)
    return supervisor


# --- What arrives from phones ----------------------------------------------------------


def ingest(session: Session, device: Device, batch: ParsedBatch) -> PushReceipt:
    """A push as the server handles it: store the batch exactly once, then queue what it brought."""
    receipt = service.ingest(session, device, batch)
    stored = {r.entry_id for r in receipt.results if r.status is EntryStatus.STORED}
    on_stored(session, [record for entry_id, record in batch.entries if entry_id in stored])
    return receipt


def on_stored(session: Session, records: Iterable[Any]) -> None:
    """Called in the push's transaction with the records it stored: signed notes join the
    queue (one query and one insert per batch: this is on the sync hot path); an addendum to
    a returned note sends it back to the supervisor."""
    records = list(records)
    signed = {r.id: r for r in records if r.record_type == "contact_note" and r.status.value == "signed"}
    if signed:
        known = set(session.exec(select(NoteReview.note_id).where(col(NoteReview.note_id).in_(list(signed)))).all())
        now = utc_now()
        fresh = [
            {"note_id": n.id, "peer_id": n.peer_id, "person_id": n.person_id, "state": ReviewState.AWAITING.value, "comment": "", "version": 1, "updated_at": now}
            for n in signed.values() if n.id not in known
        ]
        if fresh:
            session.connection().execute(insert(NoteReview.__table__), fresh)  # type: ignore[arg-type]
    for record in records:
        if record.record_type == "addendum":
            review = session.get(NoteReview, record.note_id)
            if review is not None:
                review.state = review_after_addendum(ReviewState(review.state)).value
                review.updated_at = utc_now()
                session.add(review)


# --- The queue -------------------------------------------------------------------------


class QueueAlert(BaseModel):
    alert_id: str
    peer_name: str
    person_name: str
    raised_at: datetime
    zone: str = ""
    feeling_today: str = ""


class QueueNote(BaseModel):
    note_id: str
    peer_id: str
    peer_name: str
    peer_credentials: str
    person_name: str
    starts_at: datetime
    minutes: int
    mode: str | None
    service_code: str
    units: int
    narrative: dict[str, str]
    addenda: list[str]
    state: ReviewState
    comment: str = ""


class ReviewQueue(BaseModel):
    alerts: list[QueueAlert]  # unacknowledged urgent safety alerts: always first
    notes: list[QueueNote]  # awaiting review, oldest first


def latest_payload(session: Session, record_type: str, record_id: str) -> dict[str, Any] | None:
    row = session.exec(
        select(ReceivedRecord.payload).where(ReceivedRecord.record_type == record_type, ReceivedRecord.record_id == record_id).order_by(col(ReceivedRecord.version).desc())
    ).first()
    return json.loads(row) if row else None


def notes_in_state(session: Session, state: ReviewState, *, peer_id: str | None = None, person_id: str | None = None) -> list[tuple[dict[str, Any], NoteReview]]:
    """Signed notes where supervision stands at `state`, with their latest payload, oldest first."""
    query = select(NoteReview).where(NoteReview.state == state.value)
    if peer_id:
        query = query.where(NoteReview.peer_id == peer_id)
    if person_id:
        query = query.where(NoteReview.person_id == person_id)
    found = [(note, review) for review in session.exec(query).all() if (note := latest_payload(session, "contact_note", review.note_id)) is not None]
    return sorted(found, key=lambda pair: pair[0]["starts_at"])


def person_names(session: Session) -> dict[str, str]:
    return {p.id: json.loads(p.payload).get("preferred_name", "") for p in session.exec(select(Person)).all()}


def addenda_of(session: Session, note_id: str) -> list[str]:
    rows = session.exec(
        select(ReceivedRecord.payload).where(ReceivedRecord.record_type == "addendum", col(ReceivedRecord.payload).contains(note_id)).order_by(col(ReceivedRecord.seq))
    ).all()
    return [p["text"] for p in map(json.loads, rows) if p.get("note_id") == note_id]


def queue(session: Session, supervisor: Supervisor, peer_id: str | None = None) -> ReviewQueue:
    names = person_names(session)
    peers = {p.id: p for p in session.exec(select(Peer)).all()}
    acknowledged = set(session.exec(select(AlertAcknowledgement.alert_id)).all())
    alerts = []
    for row in session.exec(select(ReceivedRecord).where(ReceivedRecord.record_type == "safety_alert").order_by(col(ReceivedRecord.seq).desc())).all():
        if row.record_id in acknowledged or (peer_id and row.peer_id != peer_id):
            continue
        alert = json.loads(row.payload)
        checkin = latest_payload(session, "checkin", alert["checkin_id"]) or {}
        peer = peers.get(row.peer_id)
        alerts.append(QueueAlert(
            alert_id=row.record_id, peer_name=peer.name if peer else "", person_name=names.get(alert["person_id"], ""),
            raised_at=alert["raised_at"], zone=checkin.get("zone", ""), feeling_today=checkin.get("feeling_today", ""),
        ))
    notes = []
    for note, review in notes_in_state(session, ReviewState.AWAITING, peer_id=peer_id):
        peer = peers.get(review.peer_id)
        starts, ends = datetime.fromisoformat(note["starts_at"]), datetime.fromisoformat(note["ends_at"])
        notes.append(QueueNote(
            note_id=review.note_id, peer_id=review.peer_id, peer_name=peer.name if peer else "", peer_credentials=peer.credentials if peer else "",
            person_name=names.get(note.get("person_id") or "", "Group or community"), starts_at=starts, minutes=int((ends - starts).total_seconds() // 60),
            mode=note.get("mode"), service_code=note.get("service_code", ""), units=note.get("units", 0), narrative=note.get("narrative", {}),
            addenda=addenda_of(session, review.note_id), state=ReviewState(review.state), comment=review.comment,
        ))
    log_access(session, "review_queue", "ok", detail=f"supervisor:{supervisor.id}")
    return ReviewQueue(alerts=alerts, notes=notes)


# --- Decisions -------------------------------------------------------------------------


def _review(session: Session, note_id: str) -> NoteReview:
    review = session.get(NoteReview, note_id)
    if review is None:
        raise Refused(Refusal.NOT_FOUND, "There is no signed note with that id.", 404)
    return review


def _decide(session: Session, supervisor: Supervisor, note_id: str, state: ReviewState, comment: str) -> NoteReview:
    review = _review(session, note_id)
    if review.state != ReviewState.AWAITING.value:
        raise Refused(Refusal.WRONG_STATE, f"This note is {ReviewState(review.state).label.lower()}; only a note awaiting review can be decided.", 409)
    review.state, review.comment, review.reviewer_id, review.reviewed_at = state.value, comment, supervisor.id, utc_now()
    review.version += 1
    review.updated_at = review.reviewed_at
    session.add(review)
    feedback = NoteFeedback(
        id=note_id, state=state, comment=comment, reviewer=signed_name(supervisor),
        reviewed_at=review.reviewed_at, version=review.version,
    )
    publish_to_peer(session, review.peer_id, feedback)
    log_access(session, f"review_{state.value}", "ok", object_id=note_id, detail=f"supervisor:{supervisor.id}")
    return review


def cosign(session: Session, supervisor: Supervisor, note_id: str) -> NoteReview:
    return _decide(session, supervisor, note_id, ReviewState.COSIGNED, "")


def return_note(session: Session, supervisor: Supervisor, note_id: str, comment: str) -> NoteReview:
    if not comment.strip():
        raise Refused(Refusal.WRONG_STATE, "Say what the peer should add: a returned note needs a comment.", 422)
    if not re.match(NO_CONTROLS, comment):  # the web form reaches here without the API's request model
        raise Refused(Refusal.WRONG_STATE, "The comment holds characters that cannot be stored; retype it.", 422)
    return _decide(session, supervisor, note_id, ReviewState.RETURNED, comment.strip())


def acknowledge_alert(session: Session, supervisor: Supervisor, alert_id: str) -> None:
    if latest_payload(session, "safety_alert", alert_id) is None:
        raise Refused(Refusal.NOT_FOUND, "There is no safety alert with that id.", 404)
    if session.get(AlertAcknowledgement, alert_id) is None:
        session.add(AlertAcknowledgement(alert_id=alert_id, supervisor_id=supervisor.id))
    log_access(session, "acknowledge_alert", "ok", object_id=alert_id, detail=f"supervisor:{supervisor.id}")

