"""Alembic environment: runs inside the connection (and transaction, and lock) that
fieldpeer.agency.database hands over; offline SQL scripts are not supported."""

from __future__ import annotations

from alembic import context

from fieldpeer.agency.database import include_name
from fieldpeer.agency.tables import AgencyTable

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("Run agency migrations through fieldpeer.agency.database.upgrade (fieldpeer agency migrate).")
context.configure(
    connection=connection,
    target_metadata=AgencyTable.metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things: batch mode copies the table; PostgreSQL just ALTERs
    include_name=include_name,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
