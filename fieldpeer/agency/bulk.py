"""Many rows into one table with the driver's own executemany (the sync hot path).

SQLAlchemy's Core insert builds and type-processes a parameter dict per row in Python (about
4 µs a row here, four rows per pushed note); handing plain tuples to the DB-API cursor skips
that. Column types still convert what the driver cannot take as is (a datetime on SQLite
becomes the same text SQLAlchemy writes), so rows read back exactly as if the ORM had written them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import Column, ColumnDefault, Table
from sqlmodel import Session, SQLModel

_SQL: dict[tuple[str, str, tuple[str, ...]], str] = {}  # (dialect, table, columns) -> statement


def _statement(table: Table, columns: tuple[str, ...], dialect: str, paramstyle: str) -> str:
    key = (dialect, table.name, columns)
    if key not in _SQL:
        marks = ", ".join("?" if paramstyle == "qmark" else "%s" for _ in columns)
        _SQL[key] = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"
    return _SQL[key]


def insert_rows(session: Session, model: type[SQLModel], rows: Sequence[dict[str, Any]]) -> None:
    """INSERT every row (dicts with the same keys, column names) in one executemany."""
    if not rows:
        return
    table: Table = model.__table__  # type: ignore[attr-defined]  # SQLModel does not declare __table__ (SQLAlchemy's mapping sets it)
    connection = session.connection()
    dialect = connection.dialect
    given = tuple(rows[0])
    # Columns left out get their Python-side default as a Core insert would give them (a column
    # added to a table later must not turn these inserts into NOT NULL errors).
    defaulted = [c for c in table.columns if c.name not in given and c.default is not None and not c.primary_key]
    if defaulted:
        rows = [{**row, **{c.name: _default(c) for c in defaulted}} for row in rows]
    columns = tuple(rows[0])
    values = itemgetter(*columns) if len(columns) > 1 else lambda row: (row[columns[0]],)
    processors: list[tuple[int, Callable[[Any], Any]]] = [
        (i, p) for i, name in enumerate(columns) if (p := table.c[name].type._cached_bind_processor(dialect)) is not None
    ]
    params: list[Any] = [values(row) for row in rows]
    if processors:
        done: dict[tuple[int, int], Any] = {}  # (column, id of the value): one conversion of a batch's shared `now`
        for n, row_values in enumerate(params):
            converted = list(row_values)
            for i, process in processors:
                value = converted[i]
                key = (i, id(value))
                if key not in done:
                    done[key] = process(value)
                converted[i] = done[key]
            params[n] = tuple(converted)
    if dialect.paramstyle not in ("qmark", "format", "pyformat"):
        raise NotImplementedError(f"paramstyle {dialect.paramstyle}")
    connection.exec_driver_sql(_statement(table, columns, dialect.name, dialect.paramstyle), params)


def _default(column: Column[Any]) -> Any:
    default = column.default
    if default is None:
        return None
    arg = cast(ColumnDefault, default).arg  # a Python-side default (a Sequence is never given to these tables)
    if default.is_callable:
        return arg(None)  # SQLAlchemy wraps the callable to take an execution context
    return arg
