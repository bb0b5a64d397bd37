"""The agency database: a SQLite file by default, PostgreSQL by URL. One schema for both, brought
up to date by the Alembic revisions in fieldpeer/agency/migrations/ (see `upgrade`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import ConnectionPoolEntry, NullPool
from sqlmodel import Session, text

from fieldpeer.agency import review
from fieldpeer.agency.migrations import alembic_config
from fieldpeer.agency.tables import AgencyTable

_MIGRATION_LOCK = 0x46504147  # PostgreSQL advisory lock id: one process migrates at a time


def _sqlite_pragmas(foreign_keys: bool) -> Callable[[sqlite3.Connection, ConnectionPoolEntry], None]:
    def on_connect(dbapi_conn: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        dbapi_conn.isolation_level = None
        for pragma in ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}", "PRAGMA busy_timeout=30000"):
            dbapi_conn.execute(pragma)

    return on_connect


def _begin_immediate(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def open_agency_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas(foreign_keys=True))
        event.listen(engine, "begin", _begin_immediate)
        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def include_name(name: str | None, type_: str, _parents: Any) -> bool:
    """What migrations manage and compare: the agency's own tables. A database made by the first
    release may also hold device tables (its metadata was shared then): never touched."""
    return type_ != "table" or bool(name and name.startswith("agency_"))


@contextmanager
def migration_lock(engine: Engine) -> Iterator[Connection]:
    """One transaction holding the migration lock, so processes starting at once upgrade one after
    the other and the later ones find nothing left to do: PostgreSQL's advisory lock; on SQLite the
    write lock (BEGIN IMMEDIATE) on a connection of its own with foreign keys off, since batch mode
    rebuilds referenced tables and SQLite cannot switch the checks inside a transaction; they are
    checked before the commit instead."""
    if engine.dialect.name != "sqlite":
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
            yield conn
        return
    migrating = create_engine(engine.url, poolclass=NullPool, connect_args={"timeout": 30})
    event.listen(migrating, "connect", _sqlite_pragmas(foreign_keys=False))
    event.listen(migrating, "begin", _begin_immediate)
    try:
        with migrating.begin() as conn:
            yield conn
            broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
            if broken:
                raise RuntimeError(f"The upgrade would leave {len(broken)} broken references (tables {sorted({row[0] for row in broken})}); nothing was changed.")
    finally:
        migrating.dispose()


def upgrade(engine: Engine) -> str:
    """Create or upgrade the schema to the newest revision, then fill in what the server derives
    from stored records (review.backfill), all in one transaction under the migration lock.
    A database made before migrations existed is recognised by the baseline revision. Returns the
    revision the database is at."""
    with migration_lock(engine) as conn:
        command.upgrade(alembic_config(conn), "head")
        with Session(bind=conn) as db:  # tables added to an older database start empty: fill them (cheap when done)
            review.backfill(db)
            db.flush()
        return MigrationContext.configure(conn).get_current_revision() or ""


def migrate_agency(engine: Engine) -> None:
    """What every server start runs (and tests, benchmarks): `upgrade`."""
    upgrade(engine)


@cache
def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head, "fieldpeer/agency/migrations/versions holds no revision"
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: never migrated). A plain read outside any
    transaction, so it never waits behind a writer (SQLite's engine begins every transaction
    IMMEDIATE)."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        try:
            cursor.execute("SELECT version_num FROM alembic_version")
        except engine.dialect.loaded_dbapi.Error:  # no version table: a database from before migrations, or none at all
            return None
        rows = cursor.fetchall()
        return str(rows[0][0]) if len(rows) == 1 else None
    finally:
        raw.close()


def is_at_head(engine: Engine) -> bool:
    """The database answers and carries the newest schema (what /api/v1/health reports)."""
    return current_revision(engine) == head_revision()


def schema_differences(engine: Engine) -> list[Any]:
    """Alembic's autogenerate comparison of the models with the database: empty when the
    revisions create exactly what fieldpeer/agency/tables.py describes."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": include_name, "compare_type": True})
        differences: list[Any] = compare_metadata(context, AgencyTable.metadata)
        conn.rollback()
        return differences


def health(engine: Engine) -> dict[str, str]:
    """What /api/v1/health answers: status "ok" when the database answers and is at this server's
    newest revision, else "unavailable" (503: a load balancer stops sending here, e.g. an older
    process left running on a database a newer release upgraded). Revision ids only, never the URL."""
    try:
        revision = current_revision(engine)
    except (SQLAlchemyError, OSError):
        return {"status": "unavailable", "database": "unreachable", "schema": "unknown", "expected": head_revision()}
    at_head = revision == head_revision()
    return {"status": "ok" if at_head else "unavailable", "database": "ok", "schema": revision or "none", "expected": head_revision()}
