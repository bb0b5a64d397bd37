"""`fieldpeer agency serve`: one or several uvicorn worker processes over one database.

Workers are separate processes started by uvicorn, so each builds its app from an import string
(app.FACTORY) and its settings from environment variables, and imports the bounded HTTP protocol
by name (this module's BoundedHttpToolsProtocol): the header limits of limits.py hold in every
worker. Several workers need PostgreSQL: SQLite takes one writer at a time, so extra workers
would only queue behind each other's writes (and each other's busy timeouts); they are refused.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from fieldpeer.agency import limits
from fieldpeer.agency.app import FACTORY
from fieldpeer.agency.database import migrate_agency, open_agency_engine
from fieldpeer.agency.keys import load_or_create_agency_keys
from fieldpeer.agency.settings import AgencySettings

PROTOCOL = f"{__name__}:BoundedHttpToolsProtocol"


class ServeRefused(ValueError):
    """A `serve` combination that cannot work; the message says what to do instead."""


def check_workers(db_url: str, workers: int) -> None:
    if workers < 1:
        raise ServeRefused("--workers must be 1 or more.")
    if workers > 1 and make_url(db_url).get_backend_name() == "sqlite":
        raise ServeRefused("--workers above 1 needs PostgreSQL: SQLite writes one at a time, so more workers would only wait on each other. Use --db postgresql+psycopg://... or one worker.")


def http_options() -> dict[str, Any]:
    """limits.uvicorn_http_options, with the bounded protocol named instead of passed (a worker imports it)."""
    options = limits.uvicorn_http_options()
    if not isinstance(options["http"], str):
        options["http"] = PROTOCOL
    return options


def serve(settings: AgencySettings, *, host: str, port: int, workers: int = 1, tls: tuple[Path, Path] | None = None) -> None:
    import uvicorn

    check_workers(settings.db_url, workers)
    # Once, before any worker starts: the schema and the key pair (workers then find both ready).
    engine = open_agency_engine(settings.db_url)
    migrate_agency(engine)
    engine.dispose()
    load_or_create_agency_keys(settings.key_dir)
    os.environ.update(settings.as_env())  # read by app_from_env in each worker (inherited, never logged)
    # Bounded request heads (431 before the app runs); a client may keep a connection idle 5 s.
    uvicorn.run(
        FACTORY, factory=True, host=host, port=port, workers=workers, log_level="warning", timeout_keep_alive=5,
        ssl_certfile=str(tls[0]) if tls else None, ssl_keyfile=str(tls[1]) if tls else None, **http_options(),
    )


def __getattr__(name: str) -> Any:
    # `fieldpeer.agency.serving:BoundedHttpToolsProtocol`: built on first import (httptools is optional).
    if name == "BoundedHttpToolsProtocol":
        return limits.bounded_httptools_protocol()
    raise AttributeError(name)
