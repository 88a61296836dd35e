"""Dialect-neutral INSERT ... ON CONFLICT for SQLite and PostgreSQL.

The ON CONFLICT part of a statement is built once per (dialect, table, keys, columns) and
cached: building `excluded` walks every column of the table, which cost consumers more CPU
than executing the statement (profiled in metrics' rebuild).

Prefer `upsert_row` / `insert_row_ignoring`: they pass the values as execution parameters
to the cached statement. `.values(**values)` embeds them in a new statement whose cache key
SQLAlchemy then walks value by value: 3-4x the CPU of the whole call for a 36-column row
(measured on SQLite, 2026-12-02).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection


def _insert(dialect: str, table: sa.Table):  # type: ignore[no-untyped-def]
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


@lru_cache(maxsize=1024)
def _ignoring(dialect: str, table: sa.Table, keys: tuple[str, ...]):  # type: ignore[no-untyped-def]
    return _insert(dialect, table).on_conflict_do_nothing(index_elements=list(keys))


@lru_cache(maxsize=1024)
def _upserting(dialect: str, table: sa.Table, keys: tuple[str, ...], columns: tuple[str, ...]):  # type: ignore[no-untyped-def]
    stmt = _insert(dialect, table)
    update = {k: stmt.excluded[k] for k in columns if k not in keys}
    if not update:
        return stmt.on_conflict_do_nothing(index_elements=list(keys))
    return stmt.on_conflict_do_update(index_elements=list(keys), set_=update)


def insert_ignore(conn: AsyncConnection, table: sa.Table, keys: Sequence[str]):  # type: ignore[no-untyped-def]
    """INSERT that does nothing when a row with the same `keys` exists (idempotent apply)."""
    return _ignoring(conn.dialect.name, table, tuple(keys))


def upsert(conn: AsyncConnection, table: sa.Table, keys: Sequence[str], values: dict[str, object]):  # type: ignore[no-untyped-def]
    """INSERT or, on a key conflict, UPDATE the non-key columns given in `values`."""
    return _upserting(conn.dialect.name, table, tuple(keys), tuple(values)).values(**values)


async def upsert_row(conn: AsyncConnection, table: sa.Table, keys: Sequence[str],
                     values: dict[str, object]) -> CursorResult:  # type: ignore[type-arg]
    """Execute `upsert(conn, table, keys, values)` with the values as parameters (cheaper)."""
    return await conn.execute(_upserting(conn.dialect.name, table, tuple(keys), tuple(values)), values)


async def insert_row_ignoring(conn: AsyncConnection, table: sa.Table, keys: Sequence[str],
                              values: dict[str, object]) -> CursorResult:  # type: ignore[type-arg]
    """Execute `insert_ignore(...).values(**values)` with the values as parameters; rowcount 0
    means a row with the same keys was there."""
    return await conn.execute(_ignoring(conn.dialect.name, table, tuple(keys)), values)
