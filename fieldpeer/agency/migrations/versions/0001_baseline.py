"""Baseline: the agency schema as of 2026-11-25, the last one made by create_all.

Also adopts a database made before migrations existed (by any earlier release: they only ever
added tables, and once changed an index): it creates the tables that are missing, adds missing
indexes, rebuilds ix_note_units_day where it still has its first columns (peer, person, day),
and drops the old `agency_schema` version table. On an empty database it creates everything.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Text = sqlmodel.sql.sqltypes.AutoString
When = sqlmodel.sql.sqltypes.UTCDateTime
schema = sa.MetaData()  # frozen here: later revisions change the models, never this


def _columns(*specs: tuple[str, sa.types.TypeEngine[Any] | type, bool]) -> list[sa.Column[Any]]:
    return [sa.Column(name, kind, nullable=nullable) for name, kind, nullable in specs]


sa.Table("agency_peer", schema, *_columns(("id", Text, False), ("name", Text, False), ("role", Text, False), ("credentials", Text, False), ("created_at", When, False)),
         sa.PrimaryKeyConstraint("id"))
sa.Table("agency_device", schema, *_columns(("id", Text, False), ("peer_id", Text, False), ("name", Text, False), ("token_hash", Text, False), ("box_key", Text, False),
                                            ("sign_key", Text, False), ("enrolled_at", When, False), ("revoked_at", When, True), ("last_seen_at", When, True)),
         sa.ForeignKeyConstraint(["peer_id"], ["agency_peer.id"]), sa.PrimaryKeyConstraint("id"), sa.UniqueConstraint("token_hash"),
         sa.Index("ix_agency_device_peer_id", "peer_id"))
sa.Table("agency_enrol_code", schema, *_columns(("code_hash", Text, False), ("peer_id", Text, False), ("expires_at", When, False), ("used_at", When, True)),
         sa.ForeignKeyConstraint(["peer_id"], ["agency_peer.id"]), sa.PrimaryKeyConstraint("code_hash"))
sa.Table("agency_person", schema, *_columns(("id", Text, False), ("peer_id", Text, False), ("version", sa.Integer, False), ("payload", sa.Text, False), ("updated_at", When, False)),
         sa.ForeignKeyConstraint(["peer_id"], ["agency_peer.id"]), sa.PrimaryKeyConstraint("id"), sa.Index("ix_agency_person_peer_id", "peer_id"))
sa.Table("agency_received", schema, *_columns(("seq", sa.Integer, False), ("entry_id", Text, False), ("record_type", Text, False), ("record_id", Text, False),
                                              ("version", sa.Integer, False), ("person_id", Text, True), ("peer_id", Text, False), ("device_id", Text, False),
                                              ("batch_id", Text, False), ("received_at", When, False), ("payload", sa.Text, False)),
         sa.PrimaryKeyConstraint("seq"), sa.UniqueConstraint("entry_id"), sa.UniqueConstraint("record_type", "record_id", "version", name="uq_received_record_version"),
         sa.Index("ix_agency_received_peer_id", "peer_id"), sa.Index("ix_received_person", "person_id", "received_at"))
sa.Table("agency_feed", schema, *_columns(("seq", sa.Integer, False), ("peer_id", Text, False), ("record_type", Text, False), ("record_id", Text, False),
                                          ("payload", sa.Text, False), ("created_at", When, False)),
         sa.PrimaryKeyConstraint("seq"), sa.Index("ix_agency_feed_peer_id", "peer_id"))
sa.Table("agency_access_log", schema, *_columns(("seq", sa.Integer, False), ("at", When, False), ("device_id", Text, True), ("peer_id", Text, True), ("action", Text, False),
                                                ("object_id", Text, False), ("outcome", Text, False), ("detail", Text, False)),
         sa.PrimaryKeyConstraint("seq"))
sa.Table("agency_supervisor", schema, *_columns(("id", Text, False), ("name", Text, False), ("credentials", Text, False), ("token_hash", Text, False),
                                                ("created_at", When, False), ("revoked_at", When, True)),
         sa.PrimaryKeyConstraint("id"), sa.UniqueConstraint("token_hash"))
sa.Table("agency_note_review", schema, *_columns(("note_id", Text, False), ("peer_id", Text, False), ("person_id", Text, True), ("state", Text, False), ("comment", sa.Text, False),
                                                 ("reviewer_id", Text, True), ("reviewed_at", When, True), ("version", sa.Integer, False), ("updated_at", When, False)),
         sa.PrimaryKeyConstraint("note_id"), sa.Index("ix_agency_note_review_peer_id", "peer_id"), sa.Index("ix_agency_note_review_state", "state"))
sa.Table("agency_alert_ack", schema, *_columns(("alert_id", Text, False), ("supervisor_id", Text, False), ("at", When, False)), sa.PrimaryKeyConstraint("alert_id"))
sa.Table("agency_alert_close", schema, *_columns(("alert_id", Text, False), ("supervisor_id", Text, False), ("at", When, False)), sa.PrimaryKeyConstraint("alert_id"))
sa.Table("agency_note_units", schema, *_columns(("note_id", Text, False), ("peer_id", Text, False), ("person_id", Text, False), ("day", Text, False), ("starts_at", sa.DateTime, False),
                                                ("minutes", sa.Integer, False), ("service_code", Text, False), ("units", sa.Integer, False), ("version", sa.Integer, False)),
         sa.PrimaryKeyConstraint("note_id"), sa.Index("ix_note_units_day", "peer_id", "day"))
sa.Table("agency_addendum", schema, *_columns(("addendum_id", Text, False), ("note_id", Text, False)),
         sa.PrimaryKeyConstraint("addendum_id"), sa.Index("ix_agency_addendum_note_id", "note_id"))
sa.Table("agency_disclosure", schema, *_columns(("seq", sa.Integer, False), ("at", When, False), ("supervisor_id", Text, False), ("kind", Text, False), ("person_id", Text, True),
                                                ("recipient", Text, False), ("purpose", sa.Text, False), ("consent_id", Text, True), ("part2", sa.Boolean, False),
                                                ("records", sa.Integer, False)),
         sa.PrimaryKeyConstraint("seq"))


def upgrade() -> None:
    bind = op.get_bind()
    existing = set(sa.inspect(bind).get_table_names())
    for table in schema.sorted_tables:  # referenced tables first
        if table.name not in existing:
            table.create(bind)
            continue
        indexes = {ix["name"]: list(ix["column_names"]) for ix in sa.inspect(bind).get_indexes(table.name)}
        for index in table.indexes:
            wanted = [c.name for c in index.columns]
            if indexes.get(index.name) == wanted:
                continue
            if index.name in indexes:  # same name, older columns
                op.drop_index(str(index.name), table_name=table.name)
            index.create(bind)
    if "agency_schema" in existing:  # the version table before Alembic
        op.drop_table("agency_schema")


def downgrade() -> None:
    raise NotImplementedError("The baseline is the oldest schema migrations know; restore a backup to go further back.")
