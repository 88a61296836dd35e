"""Pooled PostgreSQL connections the server closed are replaced at checkout, not handed out."""

from __future__ import annotations

import asyncio

import asyncpg
import sqlalchemy as sa

from helpdesk_runtime.db import create_engine


def _dsn(url: str) -> str:
    return sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def test_connections_the_server_terminated_are_replaced_before_any_request_uses_them(
    pg_url: str,
) -> None:
    engine = create_engine(pg_url, pool_size=3, max_overflow=0)
    try:
        async def backend_pid() -> int:
            async with engine.connect() as conn:
                pid = (await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one()
                await asyncio.sleep(0.05)  # hold it, so the three checkouts use three connections
                return int(pid)

        pooled = set(await asyncio.gather(*(backend_pid() for _ in range(3))))
        assert len(pooled) == 3
        admin = await asyncpg.connect(_dsn(pg_url))
        try:
            # What a PostgreSQL restart or an idle-session timeout does to each pooled connection.
            await admin.execute("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid",
                                list(pooled))
        finally:
            await admin.close()
        await asyncio.sleep(0.2)

        after = await asyncio.gather(*(backend_pid() for _ in range(3)))
    finally:
        await engine.dispose()
    assert pooled.isdisjoint(after)
