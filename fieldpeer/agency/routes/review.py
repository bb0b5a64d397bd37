"""Supervision over the API: the review queue, co-signing or returning notes, following alerts up."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from fieldpeer.agency import review
from fieldpeer.agency.routes.common import Db, RecordIdPath, supervisor_for
from fieldpeer.agency.tables import Supervisor
from fieldpeer.domain import ReviewState
from fieldpeer.records import AlertStatus
from fieldpeer.sync.wire import API

router = APIRouter(prefix=f"{API}/review")


class ReturnRequest(BaseModel):
    comment: str = Field(min_length=1, max_length=4000, pattern=review.NO_CONTROLS)


class ReviewOutcome(BaseModel):
    note_id: str
    state: ReviewState | None


IdQuery = Query(max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")


@router.get("/queue", response_model=review.ReviewQueue)
def review_queue(
    db: Db, supervisor: Annotated[Supervisor, Depends(supervisor_for("review_queue"))],
    peer: Annotated[str | None, IdQuery] = None,
    person: Annotated[str | None, IdQuery] = None,
    start: date | None = None,
    end: date | None = None,
    urgent: bool = False,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=review.PAGE_SIZE_MAX)] = review.PAGE_SIZE_MAX,
) -> review.ReviewQueue:
    """Urgent safety alerts first, then signed notes awaiting review, oldest first, a page at a time
    (`total` counts every matching note). Filters narrow what the supervisor's teams show, never widen it."""
    filters = review.QueueFilters(peer_id=peer, person_id=person, start=start, end=end, urgent_only=urgent)
    return review.queue(db, supervisor, filters=filters, page=page, page_size=page_size)


@router.post("/notes/{note_id}/cosign", response_model=ReviewOutcome)
def cosign_note(note_id: RecordIdPath, db: Db, supervisor: Annotated[Supervisor, Depends(supervisor_for("cosign"))]) -> ReviewOutcome:
    decided = review.cosign(db, supervisor, note_id)
    return ReviewOutcome(note_id=note_id, state=ReviewState(decided.state))


@router.post("/notes/{note_id}/return", response_model=ReviewOutcome)
def return_note(note_id: RecordIdPath, body: ReturnRequest, db: Db, supervisor: Annotated[Supervisor, Depends(supervisor_for("return"))]) -> ReviewOutcome:
    decided = review.return_note(db, supervisor, note_id, body.comment)
    return ReviewOutcome(note_id=note_id, state=ReviewState(decided.state))


@router.post("/alerts/{alert_id}/acknowledge", response_model=ReviewOutcome)
def acknowledge_alert(alert_id: RecordIdPath, db: Db, supervisor: Annotated[Supervisor, Depends(supervisor_for("acknowledge_alert"))]) -> ReviewOutcome:
    review.acknowledge_alert(db, supervisor, alert_id)
    return ReviewOutcome(note_id=alert_id, state=None)


@router.post("/alerts/{alert_id}/close", response_model=AlertStatus)
def close_alert(alert_id: RecordIdPath, db: Db, supervisor: Annotated[Supervisor, Depends(supervisor_for("close_alert"))]) -> AlertStatus:
    """Close a safety alert (acknowledging it too if nobody had); the peer's phones hear it at their next sync."""
    return review.close_alert(db, supervisor, alert_id)
