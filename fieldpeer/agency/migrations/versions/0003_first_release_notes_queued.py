"""Signed notes stored before supervision existed (the first release, before 2026-11-25) join the
review queue as awaiting, as a push does today (review.on_stored); the server's backfill then gives
them their unit figures. A no-op on databases made since: every signed note already has its row.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AWAITING = "awaiting"  # ReviewState.AWAITING, frozen here as this revision wrote it


def upgrade() -> None:
    bind = op.get_bind()
    unreviewed = bind.execute(sa.text(
        "SELECT r.record_id, r.peer_id, r.payload FROM agency_received r WHERE r.record_type = 'contact_note'"
        " AND NOT EXISTS (SELECT 1 FROM agency_note_review n WHERE n.note_id = r.record_id)"
    )).all()
    now = datetime.now(UTC)
    rows: dict[str, dict[str, object]] = {}
    for note_id, peer_id, payload in unreviewed:
        note = json.loads(payload)
        if note.get("status") == "signed":
            rows[note_id] = {"note_id": note_id, "peer_id": peer_id, "person_id": note.get("person_id"), "state": AWAITING, "comment": "", "version": 1, "updated_at": now}
    if rows:
        review = sa.table("agency_note_review", *(sa.column(name) for name in ("note_id", "peer_id", "person_id", "state", "comment", "version")),
                          sa.column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime()))  # stored as the server stores it
        op.bulk_insert(review, list(rows.values()))


def downgrade() -> None:
    pass  # the rows are what a push would have made; nothing to undo
