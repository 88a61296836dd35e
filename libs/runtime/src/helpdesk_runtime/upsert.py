"""Dialect-neutral INSERT ... ON CONFLICT for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


def _insert(conn: AsyncConnection, table: sa.Table):  # type: ignore[no-untyped-def]
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def insert_ignore(conn: AsyncConnection, table: sa.Table, keys: Sequence[str]):  # type: ignore[no-untyped-def]
    """INSERT that does nothing when a row with the same `keys` exists (idempotent apply)."""
    return _insert(conn, table).on_conflict_do_nothing(index_elements=list(keys))


def upsert(conn: AsyncConnection, table: sa.Table, keys: Sequence[str], values: dict[str, object]):  # type: ignore[no-untyped-def]
    """INSERT or, on a key conflict, UPDATE the non-key columns given in `values`."""
    stmt = _insert(conn, table).values(**values)
    update = {k: stmt.excluded[k] for k in values if k not in keys}
    if not update:
        return stmt.on_conflict_do_nothing(index_elements=list(keys))
    return stmt.on_conflict_do_update(index_elements=list(keys), set_=update)
