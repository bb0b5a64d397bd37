"""How many SQL statements a piece of work sends: the fixed-number-of-queries tests and the
review-queue benchmark count the same way."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine, event


@dataclass
class StatementCount:
    count: int = 0


@contextmanager
def statements_sent(engine: Engine) -> Iterator[StatementCount]:
    """Counts every statement the engine sends to the database while the block runs."""
    tally = StatementCount()

    def counted(*_: object) -> None:
        tally.count += 1

    event.listen(engine, "before_cursor_execute", counted)
    try:
        yield tally
    finally:
        event.remove(engine, "before_cursor_execute", counted)
