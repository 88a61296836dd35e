"""The runtime's engine: concurrent writers queue instead of failing, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from helpdesk_runtime.db import create_engine, is_postgres, ping, read_only

COUNTER = sa.Table(
    "counter",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("n", sa.Integer),
)


async def test_concurrent_read_modify_write_transactions_all_commit(db_engine: AsyncEngine) -> None:
    async with db_engine.begin() as conn:
        await conn.run_sync(COUNTER.metadata.create_all)
        await conn.execute(sa.insert(COUNTER).values(id=1, n=0))

    async def increment() -> None:
        async with db_engine.begin() as conn:
            # Read then write: on SQLite a deferred BEGIN would fail to upgrade its lock.
            query = sa.select(COUNTER.c.n).where(COUNTER.c.id == 1)
            if is_postgres(db_engine):
                query = query.with_for_update()
            n = await conn.scalar(query)
            await asyncio.sleep(0.001)
            await conn.execute(sa.update(COUNTER).where(COUNTER.c.id == 1).values(n=n + 1))

    await asyncio.gather(*(increment() for _ in range(40)))
    async with read_only(db_engine).connect() as conn:
        assert await conn.scalar(sa.select(COUNTER.c.n)) == 40


async def test_ping_tells_a_reachable_database_from_an_unreachable_one(
    db_engine: AsyncEngine,
) -> None:
    assert await ping(db_engine)
    unreachable = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    try:
        assert not await ping(unreachable, timeout=1.0)
    finally:
        await unreachable.dispose()
