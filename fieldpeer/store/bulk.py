"""Applying many pulled records of one type at once (issue #18): the held versions read in one
query, the newer records upserted in one executemany, one audit row with the count."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.dialects.sqlite import insert

from fieldpeer.store.unit_of_work import Unit


def newer_only(unit: Unit, table: Table, key: str, records: Sequence[Any]) -> list[Any]:
    """The records newer than what the table holds (one query per chunk; a replayed page's older
    versions drop out), the newest per id when a page carries several."""
    latest: dict[str, Any] = {}
    for record in records:
        if record.id not in latest or record.version > latest[record.id].version:
            latest[record.id] = record
    held: dict[str, int] = {}
    ids = list(latest)
    for start in range(0, len(ids), 500):  # under SQLite's bound-parameter limit
        chunk = ids[start : start + 500]
        held.update((row[0], row[1]) for row in unit.session.execute(select(table.c[key], table.c.version).where(table.c[key].in_(chunk))))
    return [r for r in latest.values() if r.id not in held or held[r.id] < r.version]


def upsert_newer(unit: Unit, table: Table, key: str, rows: list[dict[str, Any]]) -> None:
    """Insert or replace the rows in one executemany; the version guard stays in SQL too."""
    if not rows:
        return
    unit.session.flush()  # the page's earlier records first
    statement = insert(table)
    statement = statement.on_conflict_do_update(index_elements=[key], set_={c: statement.excluded[c] for c in rows[0] if c != key}, where=statement.excluded.version > table.c.version)
    unit.session.execute(statement, rows)


def audit_page(unit: Unit, action: str, record_type: str, count: int) -> None:
    """One audit row for a page's records of one type: the count, never the ids one by one."""
    if count:
        unit.audit(action, record_type, f"{count} records")
