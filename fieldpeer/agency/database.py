"""The agency database: a SQLite file by default, PostgreSQL by URL. One schema for both."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from fieldpeer.agency import review
from fieldpeer.agency.tables import AgencyTable

SCHEMA_VERSION = 1
_MIGRATION_LOCK = 0x46504147  # PostgreSQL advisory lock id: one process migrates at a time


def open_agency_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            dbapi_conn.isolation_level = None
            for pragma in ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON", "PRAGMA busy_timeout=30000"):
                dbapi_conn.execute(pragma)

        @event.listens_for(engine, "begin")
        def _begin(conn):  # type: ignore[no-untyped-def]
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def migrate_agency(engine: Engine) -> None:
    """Create or upgrade the schema. Safe when several server processes start at once."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
        AgencyTable.metadata.create_all(conn)
        with Session(bind=conn) as db:  # tables added to an older database start empty: fill them (cheap when done)
            review.backfill(db)
            db.flush()
        conn.execute(text("CREATE TABLE IF NOT EXISTS agency_schema (version INTEGER NOT NULL)"))
        if conn.execute(text("SELECT count(*) FROM agency_schema")).scalar_one() == 0:
            conn.execute(text("INSERT INTO agency_schema (version) VALUES (:v)"), {"v": SCHEMA_VERSION})
