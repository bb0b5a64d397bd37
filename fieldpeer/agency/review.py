"""Supervision: supervisors review signed notes, co-sign them or return them with a comment,
and follow safety alerts through their lifecycle (open -> acknowledged -> closed). Decisions
reach the peer's phones through the feed (NoteFeedback, AlertStatus; UnitsConfirmed from units.py).

Supervisors are agency-wide (every peer's notes). They authenticate with their own bearer
token, never a device's. The queue is read in a fixed number of queries, whatever its length.
"""

from __future__ import annotations

import re
import secrets
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, false, func, insert
from sqlmodel import Session, col, select

from fieldpeer.agency import bulk, service, stored, units
from fieldpeer.agency.service import ParsedBatch, Refused, log_access, publish_to_peer, token_hash
from fieldpeer.agency.tables import AddendumIndex, AlertAcknowledgement, AlertClosure, Device, FeedEntry, NoteReview, NoteUnits, Peer, ReceivedRecord, Supervisor
from fieldpeer.domain import AlertState, ContactMode, ContactSetting, Intervention, ReviewState, SafetyAnswer, Zone, review_after_addendum
from fieldpeer.records import Addendum, AlertStatus, Checkin, ContactNote, Narrative, NoteFeedback, Record, SafetyAlert, new_id, utc_now
from fieldpeer.records import Person as PersonRecord
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
    return service.authenticate_account(
        session, Supervisor, authorization, action, unknown="Sign in as a supervisor to see this.", closed="This supervisor account was closed.",
    )


# --- What arrives from phones ----------------------------------------------------------


def ingest(session: Session, device: Device, batch: ParsedBatch) -> PushReceipt:
    """A push as the server handles it (the one `ingest`: the push route, tests and benchmarks call
    it): store the batch exactly once (service.store_batch), then queue what it brought."""
    receipt = service.store_batch(session, device, batch)
    stored_ids = {r.entry_id for r in receipt.results if r.status is EntryStatus.STORED}
    on_stored(session, device.peer_id, [record for entry_id, record in batch.entries if entry_id in stored_ids])
    return receipt


def on_stored(session: Session, peer_id: str, records: Iterable[Record]) -> None:
    """Called in the push's transaction with the records it stored (this is the sync hot path:
    a fixed number of queries per batch). Signed notes join the queue and get the agency's unit
    figure; addenda are indexed by their note, and one to a returned note sends it back to review."""
    records = list(records)
    signed = {r.id: r for r in records if isinstance(r, ContactNote) and r.status.value == "signed"}
    if signed:
        known = set(session.exec(select(NoteReview.note_id).where(col(NoteReview.note_id).in_(list(signed)))).all())
        now = utc_now()
        fresh = [
            {"note_id": n.id, "peer_id": peer_id, "person_id": n.person_id, "state": ReviewState.AWAITING.value, "comment": "", "version": 1, "updated_at": now}
            for n in signed.values() if n.id not in known
        ]
        if fresh:
            bulk.insert_rows(session, NoteReview, fresh)  # the driver's executemany (sync hot path)
        units.confirm(session, peer_id, [n for n in signed.values() if n.id not in known])
    addenda = [r for r in records if isinstance(r, Addendum)]
    if addenda:
        session.connection().execute(insert(AddendumIndex), [{"addendum_id": a.id, "note_id": a.note_id} for a in addenda])
        for review in session.exec(select(NoteReview).where(col(NoteReview.note_id).in_({a.note_id for a in addenda}))).all():
            review.state = review_after_addendum(ReviewState(review.state)).value
            review.updated_at = utc_now()
            session.add(review)


def addenda_for(session: Session, note_ids: Collection[str]) -> dict[str, list[Addendum]]:
    """Each note's addenda in the order they arrived (one query)."""
    found: dict[str, list[Addendum]] = defaultdict(list)
    if not note_ids:
        return found
    rows = session.exec(
        select(AddendumIndex.note_id, ReceivedRecord.payload)
        .join(ReceivedRecord, (col(ReceivedRecord.record_type) == "addendum") & (col(ReceivedRecord.record_id) == AddendumIndex.addendum_id))
        .where(col(AddendumIndex.note_id).in_(list(note_ids)))
        .order_by(col(ReceivedRecord.seq))
    ).all()
    for note_id, payload in rows:
        found[note_id].append(stored.read(Addendum, payload))
    return found


# --- Signed notes ----------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewedNote:
    """A signed note as the agency holds it: the note, where review stands, the agency's units."""

    note: ContactNote
    review: NoteReview
    units: int


def notes_in_state(
    session: Session, state: ReviewState, *, peer_id: str | None = None, person_id: str | None = None, days: tuple[date, date] | None = None
) -> list[ReviewedNote]:
    """Signed notes where supervision stands at `state` (optionally a peer's, a person's, those
    between two days inclusive), oldest contact first. One query."""
    query = (
        select(ReceivedRecord.payload, NoteReview, NoteUnits.units)
        .join(ReceivedRecord, (col(ReceivedRecord.record_type) == "contact_note") & (col(ReceivedRecord.record_id) == NoteReview.note_id))
        .join(NoteUnits, col(NoteUnits.note_id) == NoteReview.note_id, isouter=True)
        .where(NoteReview.state == state.value, ReceivedRecord.version == stored.latest_version())
    )
    if peer_id:
        query = query.where(NoteReview.peer_id == peer_id)
    if person_id:
        query = query.where(NoteReview.person_id == person_id)
    if days:
        query = query.where(col(NoteUnits.day) >= days[0].isoformat(), col(NoteUnits.day) <= days[1].isoformat())
    found = [ReviewedNote(stored.read(ContactNote, payload), review, figure or 0) for payload, review, figure in session.exec(query).all()]
    return sorted(found, key=lambda r: (r.note.starts_at, r.note.id))


# --- Safety alerts ---------------------------------------------------------------------

ALERT_VERSION = {AlertState.OPEN: 1, AlertState.ACKNOWLEDGED: 2, AlertState.CLOSED: 3}  # the phone keeps the highest


class QueueAlert(BaseModel):
    """A safety alert as the supervisor sees it. It may arrive before its check-in (raised the
    moment the answer was chosen): `checkin_saved` says whether the person's words are here yet."""

    alert_id: str
    peer_id: str
    peer_name: str
    person_id: str
    person_name: str
    raised_at: datetime
    safety: SafetyAnswer
    state: AlertState
    by: str = ""  # who acknowledged (then closed) it: "Dana Reyes, LCSW"
    at: datetime | None = None  # when that last happened
    checkin_saved: bool = False
    zone: Zone | None = None
    feeling_today: str = ""


def _alert_state(acknowledged: AlertAcknowledgement | None, closed: AlertClosure | None) -> AlertState:
    return AlertState.CLOSED if closed else AlertState.ACKNOWLEDGED if acknowledged else AlertState.OPEN


def alerts(session: Session, states: Collection[AlertState], *, peer_id: str | None = None) -> list[QueueAlert]:
    """Safety alerts in these states, newest first, with the person, the peer and the check-in's
    words when the check-in has arrived. A fixed number of queries."""
    query = (
        select(ReceivedRecord, AlertAcknowledgement, AlertClosure)
        .join(AlertAcknowledgement, col(AlertAcknowledgement.alert_id) == ReceivedRecord.record_id, isouter=True)
        .join(AlertClosure, col(AlertClosure.alert_id) == ReceivedRecord.record_id, isouter=True)
        .where(ReceivedRecord.record_type == "safety_alert")
        .order_by(col(ReceivedRecord.seq).desc())
    )
    if AlertState.CLOSED not in states:
        query = query.where(col(AlertClosure.alert_id).is_(None))
    if AlertState.ACKNOWLEDGED not in states and AlertState.CLOSED not in states:
        query = query.where(col(AlertAcknowledgement.alert_id).is_(None))
    if peer_id:
        query = query.where(ReceivedRecord.peer_id == peer_id)
    rows = [(row, stored.read(SafetyAlert, row.payload), _alert_state(ack, closed), ack, closed) for row, ack, closed in session.exec(query).all()]
    rows = [r for r in rows if r[2] in states]
    if not rows:
        return []
    checkins = stored.latest(session, Checkin, {alert.checkin_id for _, alert, *_ in rows})
    names = {pid: p.preferred_name for pid, p in stored.persons(session, {alert.person_id for _, alert, *_ in rows}).items()}
    peers = {p.id: p for p in session.exec(select(Peer).where(col(Peer.id).in_({row.peer_id for row, *_ in rows}))).all()}
    deciders = {ack.supervisor_id for *_, ack, _ in rows if ack} | {closed.supervisor_id for *_, closed in rows if closed}
    supervisors = {s.id: s for s in session.exec(select(Supervisor).where(col(Supervisor.id).in_(deciders))).all()} if deciders else {}
    found = []
    for row, alert, state, ack, closed in rows:
        checkin = checkins.get(alert.checkin_id)
        if checkin is not None and checkin.person_id != alert.person_id:
            checkin = None  # never show one person's words under another's name
        last = closed or ack
        peer = peers.get(row.peer_id)
        found.append(QueueAlert(
            alert_id=alert.id, peer_id=row.peer_id, peer_name=peer.name if peer else "", person_id=alert.person_id, person_name=names.get(alert.person_id, ""),
            raised_at=alert.raised_at, safety=alert.safety, state=state, by=signed_name(supervisors.get(last.supervisor_id)) if last else "",
            at=last.at if last else None, checkin_saved=checkin is not None, zone=checkin.zone if checkin else None,
            feeling_today=checkin.feeling_today if checkin else "",
        ))
    return found


def _alert(session: Session, alert_id: str) -> tuple[SafetyAlert, str]:
    """The alert and the peer whose phone raised it."""
    row = session.exec(select(ReceivedRecord).where(ReceivedRecord.record_type == "safety_alert", ReceivedRecord.record_id == alert_id)).first()
    if row is None:
        raise Refused(Refusal.NOT_FOUND, "There is no safety alert with that id.", 404)
    return stored.read(SafetyAlert, row.payload), row.peer_id


def _status(session: Session, alert: SafetyAlert, state: AlertState, supervisor_id: str, at: datetime) -> AlertStatus:
    return AlertStatus(id=alert.id, person_id=alert.person_id, state=state, by=signed_name(session.get(Supervisor, supervisor_id)), at=at, version=ALERT_VERSION[state])


def acknowledge_alert(session: Session, supervisor: Supervisor, alert_id: str) -> AlertStatus:
    """The supervisor is following up. The peer's phones hear who and when at their next sync.
    Acknowledging again (or after closing) changes nothing and answers where the alert stands."""
    alert, peer_id = _alert(session, alert_id)
    in_view(session, supervisor, peer_id)
    closed, acknowledged = session.get(AlertClosure, alert_id), session.get(AlertAcknowledgement, alert_id)
    log_access(session, "acknowledge_alert", "ok", object_id=alert_id, detail=f"supervisor:{supervisor.id}")
    if closed:
        return _status(session, alert, AlertState.CLOSED, closed.supervisor_id, closed.at)
    if acknowledged:
        return _status(session, alert, AlertState.ACKNOWLEDGED, acknowledged.supervisor_id, acknowledged.at)
    now = utc_now()
    session.add(AlertAcknowledgement(alert_id=alert_id, supervisor_id=supervisor.id, at=now))
    status = AlertStatus(id=alert.id, person_id=alert.person_id, state=AlertState.ACKNOWLEDGED, by=signed_name(supervisor), at=now, version=ALERT_VERSION[AlertState.ACKNOWLEDGED])
    publish_to_peer(session, peer_id, status)
    return status


def close_alert(session: Session, supervisor: Supervisor, alert_id: str) -> AlertStatus:
    """The situation is resolved. Closing an alert nobody acknowledged yet acknowledges it in the
    same step (same supervisor, same moment): whoever closes it has followed up, and a second
    button press proves nothing. Closing again changes nothing."""
    alert, peer_id = _alert(session, alert_id)
    in_view(session, supervisor, peer_id)
    closed = session.get(AlertClosure, alert_id)
    log_access(session, "close_alert", "ok", object_id=alert_id, detail=f"supervisor:{supervisor.id}")
    if closed:
        return _status(session, alert, AlertState.CLOSED, closed.supervisor_id, closed.at)
    now = utc_now()
    if session.get(AlertAcknowledgement, alert_id) is None:
        session.add(AlertAcknowledgement(alert_id=alert_id, supervisor_id=supervisor.id, at=now))
    session.add(AlertClosure(alert_id=alert_id, supervisor_id=supervisor.id, at=now))
    status = AlertStatus(id=alert.id, person_id=alert.person_id, state=AlertState.CLOSED, by=signed_name(supervisor), at=now, version=ALERT_VERSION[AlertState.CLOSED])
    publish_to_peer(session, peer_id, status)
    return status


# --- The queue -------------------------------------------------------------------------


class ReviewStep(BaseModel):
    """One earlier decision on a note, as the peer heard it: e.g. returned, with the comment."""

    state: ReviewState
    comment: str = ""
    reviewer: str = ""
    at: datetime


class QueueNote(BaseModel):
    note_id: str
    peer_id: str
    peer_name: str
    peer_credentials: str
    person_id: str | None = None
    person_name: str
    starts_at: datetime  # local wall-clock time of the contact (naive)
    minutes: int
    mode: ContactMode | None
    setting: ContactSetting | None = None
    service_code: str
    units: int  # the agency's figure (units.py), not the phone's
    interventions: list[Intervention] = []
    goals: list[str] = []  # the goals addressed, in the person's plan's words
    narrative: Narrative
    addenda: list[str]
    history: list[ReviewStep] = []  # earlier decisions (returned before, with the comment), oldest first
    state: ReviewState
    comment: str = ""


PAGE_SIZE = 25  # the supervisor pages' chunk
PAGE_SIZE_MAX = 100  # the most the API hands out at once


class QueueFilters(BaseModel):
    """What a supervisor narrows the queue to. Never widens it: team scoping applies first."""

    peer_id: str | None = None
    person_id: str | None = None
    start: date | None = None  # contact day, inclusive (the agency's local date)
    end: date | None = None
    urgent_only: bool = False  # safety alerts only, no notes


class ReviewQueue(BaseModel):
    alerts: list[QueueAlert]  # open urgent safety alerts: always first, on every page
    following_up: list[QueueAlert]  # acknowledged, not closed yet
    notes: list[QueueNote]  # awaiting review, oldest first: this page of them
    total: int = 0  # notes awaiting review that match the filters, all pages
    page: int = 1
    page_size: int = 0  # 0: every note on one page

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size)) if self.page_size else 1


_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")  # the count or the page of the queue


def _awaiting(query: _Query, visible: set[str] | None, filters: QueueFilters) -> _Query:
    """The queue's WHERE clause, in SQL: awaiting review, within the supervisor's teams, filtered."""
    query = query.where(col(NoteReview.state) == ReviewState.AWAITING.value)
    if visible is not None:
        query = query.where(col(NoteReview.peer_id).in_(visible))
    if filters.peer_id:
        query = query.where(col(NoteReview.peer_id) == filters.peer_id)
    if filters.person_id:
        query = query.where(col(NoteReview.person_id) == filters.person_id)
    if filters.start:
        query = query.where(col(NoteUnits.day) >= filters.start.isoformat())
    if filters.end:
        query = query.where(col(NoteUnits.day) <= filters.end.isoformat())
    if filters.urgent_only:
        query = query.where(false())
    return query


def queue(
    session: Session, supervisor: Supervisor, peer_id: str | None = None, *, filters: QueueFilters | None = None, page: int = 1, page_size: int = 0
) -> ReviewQueue:
    """What needs the supervisor: open alerts, alerts being followed up, notes awaiting review
    (oldest contact first, `page_size` at a time; 0 for all), with the count of matching notes.
    Filters and paging run in SQL; the same number of queries for 5 notes as for 10,000."""
    filters = (filters or QueueFilters()).model_copy(update={"peer_id": peer_id} if peer_id else {})
    visible = visible_peer_ids(session, supervisor)  # a team's supervisor: their team's peers only
    pending = alerts(session, {AlertState.OPEN, AlertState.ACKNOWLEDGED}, peer_id=filters.peer_id)
    pending = [a for a in pending if (visible is None or a.peer_id in visible) and (not filters.person_id or a.person_id == filters.person_id)]
    page = max(1, page)
    total = session.exec(_awaiting(select(func.count()).select_from(NoteReview).join(NoteUnits, col(NoteUnits.note_id) == NoteReview.note_id, isouter=True), visible, filters)).one()
    listed = (
        _awaiting(select(NoteReview, NoteUnits.units).join(NoteUnits, col(NoteUnits.note_id) == NoteReview.note_id, isouter=True), visible, filters)
        .order_by(col(NoteUnits.starts_at), col(NoteReview.note_id))
    )
    if page_size:
        listed = listed.offset((page - 1) * page_size).limit(page_size)
    rows = session.exec(listed).all() if total else []
    contents = stored.latest(session, ContactNote, [review.note_id for review, _ in rows])
    waiting = [ReviewedNote(contents[review.note_id], review, figure or 0) for review, figure in rows if review.note_id in contents]
    persons = stored.persons(session, {r.note.person_id for r in waiting if r.note.person_id})
    peers = {p.id: p for p in session.exec(select(Peer).where(col(Peer.id).in_({r.review.peer_id for r in waiting}))).all()} if waiting else {}
    addenda = addenda_for(session, [r.note.id for r in waiting])
    history = decisions_for(session, [r.note.id for r in waiting if r.review.reviewed_at is not None])
    notes = []
    for r in waiting:
        peer, person = peers.get(r.review.peer_id), persons.get(r.note.person_id or "")
        goals = {g.id: g.text for g in person.goals} if person else {}
        notes.append(QueueNote(
            note_id=r.note.id, peer_id=r.review.peer_id, peer_name=peer.name if peer else "", peer_credentials=peer.credentials if peer else "",
            person_id=r.note.person_id, person_name=person.preferred_name if person else "Group or community", starts_at=r.note.starts_at,
            minutes=r.note.minutes, mode=r.note.mode, setting=r.note.setting, service_code=r.note.service_code, units=r.units,
            interventions=r.note.interventions, goals=[goals[g] for g in r.note.goal_ids if g in goals], narrative=r.note.narrative,
            addenda=[a.text for a in addenda.get(r.note.id, [])], history=history.get(r.note.id, []), state=ReviewState(r.review.state), comment=r.review.comment,
        ))
    log_access(session, "review_queue", "ok", detail=f"supervisor:{supervisor.id}")
    return ReviewQueue(
        alerts=[a for a in pending if a.state is AlertState.OPEN], following_up=[a for a in pending if a.state is AlertState.ACKNOWLEDGED], notes=notes,
        total=total, page=page, page_size=page_size,
    )


def decisions_for(session: Session, note_ids: Collection[str]) -> dict[str, list[ReviewStep]]:
    """Each note's review decisions as sent to the peer's phones, oldest first (one query; the feed
    keeps every one, where the review row keeps only the latest)."""
    found: dict[str, list[ReviewStep]] = defaultdict(list)
    if not note_ids:
        return found
    for payload in session.exec(
        select(FeedEntry.payload).where(FeedEntry.record_type == "note_feedback", col(FeedEntry.record_id).in_(list(note_ids))).order_by(col(FeedEntry.seq))
    ).all():
        feedback = stored.read(NoteFeedback, payload)
        found[feedback.id].append(ReviewStep(state=feedback.state, comment=feedback.comment, reviewer=feedback.reviewer, at=feedback.reviewed_at))
    return found


# --- Decisions -------------------------------------------------------------------------


def _review(session: Session, note_id: str) -> NoteReview:
    review = session.get(NoteReview, note_id)
    if review is None:
        raise Refused(Refusal.NOT_FOUND, "There is no signed note with that id.", 404)
    return review


def _decide(session: Session, supervisor: Supervisor, note_id: str, state: ReviewState, comment: str) -> NoteReview:
    review = _review(session, note_id)
    in_view(session, supervisor, review.peer_id)
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


# --- Databases from before this schema ------------------------------------------------------


def backfill(session: Session) -> int:
    """Index addenda and work out units for signed notes stored before these tables existed
    (create_all adds the tables empty). Idempotent and cheap when there is nothing to do (two
    anti-joins), so it runs at every migration; returns how many records it filled in."""
    addenda = [stored.read(Addendum, p) for p in session.exec(
        select(ReceivedRecord.payload).where(ReceivedRecord.record_type == "addendum", col(ReceivedRecord.record_id).not_in(select(AddendumIndex.addendum_id)))
    ).all()]
    for addendum in addenda:
        session.add(AddendumIndex(addendum_id=addendum.id, note_id=addendum.note_id))
    peers = dict(session.exec(select(NoteReview.note_id, NoteReview.peer_id).where(col(NoteReview.note_id).not_in(select(NoteUnits.note_id)))).all())
    notes = stored.latest(session, ContactNote, list(peers))
    by_peer: dict[str, list[ContactNote]] = defaultdict(list)
    for note in notes.values():
        by_peer[peers[note.id]].append(note)
    for peer_id, signed in by_peer.items():
        units.confirm(session, peer_id, signed)
    return len(addenda) + len(notes)


# --- Teams (issue #13): a supervisor sees only the peers of the teams they lead ------------------


def visible_peer_ids(session: Session, supervisor: Supervisor) -> set[str] | None:
    """The peers this supervisor may see: those of the teams they lead (agency/admin.py sets
    them), or None (every peer) for a supervisor who leads no team, as before teams existed."""
    from fieldpeer.agency.tables import PeerStanding, TeamSupervisor  # here: keeps this addition self-contained

    teams = set(session.exec(select(TeamSupervisor.team_id).where(TeamSupervisor.supervisor_id == supervisor.id)).all())
    if not teams:
        return None
    return set(session.exec(select(PeerStanding.peer_id).where(col(PeerStanding.team_id).in_(teams))).all())


def visible_peers(session: Session, supervisor: Supervisor) -> list[Peer]:
    """The peer list a supervisor sees, by name."""
    visible = visible_peer_ids(session, supervisor)
    query = select(Peer).order_by(Peer.name)
    if visible is not None:
        query = query.where(col(Peer.id).in_(visible))
    return list(session.exec(query).all())


def in_view(session: Session, supervisor: Supervisor, peer_id: str) -> None:
    """Refuse a decision about a peer outside the supervisor's teams (as if it did not exist)."""
    visible = visible_peer_ids(session, supervisor)
    if visible is not None and peer_id not in visible:
        log_access(session, "out_of_team", "refused", object_id=peer_id, detail=f"supervisor:{supervisor.id}")
        raise Refused(Refusal.NOT_FOUND, "There is nothing with that id among your teams' peers.", 404)


def visible_persons(session: Session, supervisor: Supervisor, peer_id: str | None = None) -> list[tuple[str, str]]:
    """(id, preferred name) of the persons served by the peers this supervisor sees (one peer's,
    if given), by name: what the queue's and the exports' person choosers offer."""
    from fieldpeer.agency.tables import Person as PersonRow  # the agency's person row (records.Person is the payload)

    visible = visible_peer_ids(session, supervisor)
    query = select(PersonRow.id, PersonRow.payload)
    if visible is not None:
        query = query.where(col(PersonRow.peer_id).in_(visible))
    if peer_id:
        query = query.where(PersonRow.peer_id == peer_id)
    found = [(person_id, stored.read(PersonRecord, payload).preferred_name) for person_id, payload in session.exec(query).all()]
    return sorted(found, key=lambda p: (p[1].casefold(), p[0]))


def awaiting_by_peer(session: Session, supervisor: Supervisor) -> dict[str, int]:
    """How many notes await review per peer this supervisor sees (one grouped count)."""
    query = _awaiting(select(NoteReview.peer_id, func.count()).group_by(col(NoteReview.peer_id)), visible_peer_ids(session, supervisor), QueueFilters())
    return {peer_id: count for peer_id, count in session.exec(query).all()}
