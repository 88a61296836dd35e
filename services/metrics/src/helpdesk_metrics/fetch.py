"""Rows straight from the driver, for the queries that read many."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection


async def fetch_rows(conn: AsyncConnection, statement: Any) -> tuple[bool, Sequence[Sequence[Any]]]:
    """(from_driver, positional rows) of a select.

    On asyncpg straight from the driver: a KPI query reads ~100k rows, and SQLAlchemy's
    per-row work (Row objects, no-op result processors) cost more than the driver's decoding.
    The values are what SQLAlchemy would return there (asyncpg decodes JSON and aware times).
    """
    if conn.dialect.driver != "asyncpg":
        return False, (await conn.execute(statement)).all()
    compiled = statement.compile(dialect=conn.dialect,
                                 compile_kwargs={"render_postcompile": True})
    driver = (await conn.get_raw_connection()).driver_connection
    params = compiled.params
    return True, await driver.fetch(compiled.string,  # type: ignore[union-attr]
                                    *(params[name] for name in compiled.positiontup or ()))
