"""The server's unit of work: one session, one transaction, one place that commits.

Routes never call `commit()`. A unit commits when its block ends normally, and also when it
ends with a `Refused`: a refusal is an answer, not a failure, and the access-log row it wrote
(a refused sign-in, a refused disclosure) must be kept. Any other exception rolls back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlmodel import Session

from fieldpeer.agency.service import Refused


@contextmanager
def unit(engine: Engine) -> Iterator[Session]:
    # expire_on_commit=False: an account read in one unit (the authenticated device or
    # supervisor) is still readable in the route's own unit after this one commits.
    with Session(engine, expire_on_commit=False) as db:
        try:
            yield db
        except Refused:
            db.commit()
            raise
        except BaseException:
            db.rollback()
            raise
        db.commit()
