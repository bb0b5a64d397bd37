"""The device's SQLite database: durable, private settings and honest transactions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import QueuePool

from fieldpeer.logs import PRIVATE_FILE, private_dir, private_file

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",  # a saved note survives power loss, not just an app crash
    "PRAGMA secure_delete=ON",  # deleted pages are zeroed, not left readable in free space
    "PRAGMA temp_store=MEMORY",  # sorts and temp tables never touch disk
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
)


def database_files(path: Path) -> list[Path]:
    """The database and the side files SQLite may create next to it."""
    return [path, *(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal"))]


def open_engine(path: Path) -> Engine:
    # SQLite gives the -wal, -shm and -journal files the database file's mode, so an owner-only
    # database made before SQLite opens it keeps every side file owner-only too (umask or not).
    private_dir(path.parent)
    private_file(path)
    for side in database_files(path)[1:]:
        if side.exists():  # left by an older version or a crash
            side.chmod(PRIVATE_FILE)
    engine = create_engine(f"sqlite:///{path}", poolclass=QueuePool, pool_size=2, max_overflow=2)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions start, so DDL
        # in migrations is transactional too.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        for pragma in PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front: two writers (UI and sync) wait for each
        # other instead of failing with "database is locked" when a read upgrades to a write.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
