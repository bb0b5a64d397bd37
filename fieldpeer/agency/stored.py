"""Records the agency stored, read back through the same pydantic models the wire uses (never as
loose dicts): a field renamed in fieldpeer/records.py fails here loudly instead of reading as empty."""

from __future__ import annotations

from collections.abc import Collection
from typing import TypeVar

from sqlalchemy import ScalarSelect, func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from fieldpeer import records
from fieldpeer.agency.tables import Person, ReceivedRecord

R = TypeVar("R", bound=records.Record)


def record_type(model: type[records.Record]) -> str:
    return str(model.model_fields["record_type"].default)


def read(model: type[R], payload: str) -> R:
    return model.model_validate_json(payload)


def latest_version() -> ScalarSelect[int | None]:
    """A correlated subquery: the newest version of the ReceivedRecord row it is compared with
    (served by the unique index on type, id and version)."""
    newer = aliased(ReceivedRecord)
    return (
        select(func.max(newer.version))
        .where(newer.record_type == ReceivedRecord.record_type, newer.record_id == ReceivedRecord.record_id)
        .scalar_subquery()
    )


def latest(session: Session, model: type[R], ids: Collection[str]) -> dict[str, R]:
    """The newest stored version of each of these records (one query)."""
    if not ids:
        return {}
    rows = session.exec(
        select(ReceivedRecord.record_id, ReceivedRecord.payload).where(
            ReceivedRecord.record_type == record_type(model), col(ReceivedRecord.record_id).in_(list(ids)), ReceivedRecord.version == latest_version()
        )
    ).all()
    return {record_id: read(model, payload) for record_id, payload in rows}


def persons(session: Session, ids: Collection[str] | None = None, *, peer_id: str | None = None) -> dict[str, records.Person]:
    """The agency's current view of persons served: these ids, a peer's caseload, or everyone (one query)."""
    query = select(Person.id, Person.payload)
    if ids is not None:
        if not ids:
            return {}
        query = query.where(col(Person.id).in_(list(ids)))
    if peer_id is not None:
        query = query.where(Person.peer_id == peer_id)
    return {person_id: read(records.Person, payload) for person_id, payload in session.exec(query).all()}
