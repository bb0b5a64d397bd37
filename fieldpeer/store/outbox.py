"""Reading and settling the outbox: what the sync client sends, and what the agency said."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, text, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from fieldpeer.store import reassignment
from fieldpeer.store.tables import PENDING as PENDING  # the four states: defined once, beside OutboxRow
from fieldpeer.store.tables import QUARANTINED as QUARANTINED
from fieldpeer.store.tables import SENT as SENT
from fieldpeer.store.tables import SUPERSEDED as SUPERSEDED
from fieldpeer.store.tables import OutboxRow
from fieldpeer.store.unit_of_work import FieldStore

# Records whose versions are full snapshots of one record: only the newest needs to travel.
COALESCED_TYPES = ("contact_note", "person")


@dataclass(frozen=True)
class OutboxItem:
    seq: int
    entry_id: str
    record_type: str
    record_id: str
    record_json: str  # decrypted payload, sent as is (no parse and re-dump)

    @property
    def record(self) -> dict[str, Any]:
        return dict(json.loads(self.record_json))


@dataclass(frozen=True)
class OutboxCounts:
    pending: int
    sent: int
    quarantined: int


@dataclass(frozen=True)
class QuarantinedItem:
    entry_id: str
    record_type: str
    record_id: str
    reason: str


def next_batch(store: FieldStore, limit: int, skip: Iterable[str] = ()) -> list[OutboxItem]:
    """Pending entries, urgent first then oldest first (so a note precedes its addendum)."""
    skipped = list(skip)
    with store.unit() as unit:
        # Plain columns, not ORM objects: this runs for every batch of a big end-of-shift push.
        # SQLAlchemy's select: sqlmodel's overloads stop at four columns.
        query = sa_select(col(OutboxRow.seq), col(OutboxRow.id), col(OutboxRow.record_type), col(OutboxRow.record_id), col(OutboxRow.payload_enc)).where(col(OutboxRow.state) == PENDING)
        if skipped:
            query = query.where(col(OutboxRow.id).not_in(skipped))
        rows = unit.session.execute(query.order_by(col(OutboxRow.priority), col(OutboxRow.seq)).limit(limit)).all()
        return [
            OutboxItem(seq or 0, entry_id, record_type, record_id, unit.cipher.decrypt("outbox", entry_id, "payload", payload))
            for seq, entry_id, record_type, record_id, payload in rows
        ]


def supersede_older_versions(store: FieldStore) -> int:
    """A draft saved five times offline is sent once: older pending versions are superseded by
    the newest pending one (a full snapshot). Returns how many entries were superseded."""
    types = ", ".join(f"'{t}'" for t in COALESCED_TYPES)
    with store.unit() as unit:
        result = unit.session.execute(
            text(
                f"UPDATE outbox SET state = :superseded WHERE state = :pending AND record_type IN ({types}) "
                "AND EXISTS (SELECT 1 FROM outbox AS newer WHERE newer.state = :pending "
                "AND newer.record_type = outbox.record_type AND newer.record_id = outbox.record_id "
                "AND newer.record_version > outbox.record_version)"
            ),
            {"superseded": SUPERSEDED, "pending": PENDING},
        )
        return int(cast("CursorResult[Any]", result).rowcount or 0)  # a text() UPDATE: Session.execute types it as a plain Result


def settle(store: FieldStore, accepted: list[str], rejected: dict[str, str]) -> None:
    """Apply the agency's receipt in one transaction: accepted -> sent, rejected -> quarantined."""
    with store.unit() as unit:
        if accepted:
            unit.session.execute(update(OutboxRow).where(col(OutboxRow.id).in_(accepted)).values(state=SENT, sent_at=unit.now))
        for entry_id, reason in rejected.items():
            unit.session.execute(update(OutboxRow).where(col(OutboxRow.id) == entry_id).values(state=QUARANTINED, reason=reason[:500]))
            unit.audit("quarantined", "outbox", entry_id)
        reassignment.purge_settled(unit)  # a person moved to another peer goes once all about them is sent


def count_attempt(store: FieldStore, entry_ids: list[str]) -> None:
    with store.unit() as unit:
        unit.session.execute(update(OutboxRow).where(col(OutboxRow.id).in_(entry_ids)).values(attempts=col(OutboxRow.attempts) + 1))


def counts(store: FieldStore) -> OutboxCounts:
    with store.unit() as unit:
        by_state = dict(unit.session.exec(select(OutboxRow.state, func.count()).group_by(OutboxRow.state)).all())
    return OutboxCounts(by_state.get(PENDING, 0), by_state.get(SENT, 0), by_state.get(QUARANTINED, 0))


def quarantined(store: FieldStore) -> list[QuarantinedItem]:
    with store.unit() as unit:
        rows = unit.session.exec(select(OutboxRow).where(OutboxRow.state == QUARANTINED).order_by(col(OutboxRow.seq))).all()
        return [QuarantinedItem(r.id, r.record_type, r.record_id, r.reason or "") for r in rows]


def sent_at(store: FieldStore, record_type: str, record_id: str) -> datetime | None:
    """When the agency's receipt for this record arrived (its newest version sent), or None."""
    with store.unit() as unit:
        query = select(OutboxRow.sent_at).where(OutboxRow.record_type == record_type, OutboxRow.record_id == record_id, OutboxRow.state == SENT)
        found = unit.session.exec(query.order_by(col(OutboxRow.seq).desc()).limit(1)).first()
    return found
