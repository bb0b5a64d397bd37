"""One transaction = the change + its outbox entry + its audit event (transactional outbox)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from fieldpeer.records import AnyRecord, new_id, utc_now
from fieldpeer.store.crypto import FieldCipher
from fieldpeer.store.tables import PENDING, AuditEventRow, OutboxRow

log = logging.getLogger("fieldpeer.store")

URGENT, NORMAL = 0, 5


class Unit:
    """What a service function gets inside a transaction."""

    def __init__(self, session: Session, cipher: FieldCipher, now: datetime) -> None:
        self.session = session
        self.cipher = cipher
        self.now = now

    def audit(self, action: str, record_type: str, record_id: str) -> None:
        self.session.add(AuditEventRow(at=self.now, action=action, record_type=record_type, record_id=record_id))

    def changed(self, action: str, record: AnyRecord, *, priority: int = NORMAL) -> None:
        """Queue `record` for the agency and log the action, in this same transaction."""
        record_type = record.record_type
        version = int(getattr(record, "version", 1))
        entry_id = new_id()
        payload = self.cipher.encrypt("outbox", entry_id, "payload", record.model_dump_json())
        self.session.add(
            OutboxRow(
                id=entry_id,
                record_type=record_type,
                record_id=record.id,
                record_version=version,
                priority=priority,
                payload_enc=payload,
                created_at=self.now,
                state=PENDING,
            )
        )
        self.audit(action, record_type, record.id)
        log.info("%s %s %s v%d", action, record_type, record.id, version)


class FieldStore:
    """The unlocked device store. Screens call the service functions with it."""

    def __init__(self, engine: Engine, cipher: FieldCipher, peer_id: str, clock: Callable[[], datetime] = utc_now) -> None:
        self.engine = engine
        self.cipher = cipher
        self.peer_id = peer_id
        self.clock = clock

    @contextmanager
    def unit(self) -> Iterator[Unit]:
        with Session(self.engine, expire_on_commit=False) as session:
            with session.begin():
                yield Unit(session, self.cipher, self.clock())

    def close(self) -> None:
        self.cipher.forget()
        self.engine.dispose()
