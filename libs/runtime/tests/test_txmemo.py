"""once_per_transaction: one load per transaction on a real SQLite database."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from helpdesk_runtime.txmemo import kept_for_transaction, once_per_transaction


async def test_a_value_is_loaded_once_per_transaction_and_again_in_the_next(tmp_path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'memo.db'}", poolclass=sa.pool.StaticPool)
    loads: list[int] = []

    async def load() -> int:
        loads.append(1)
        return len(loads)

    try:
        async with engine.begin() as conn:
            first = await once_per_transaction(conn, "config", load)
            again = await once_per_transaction(conn, "config", load)
            other = await once_per_transaction(conn, "other", load)
        async with engine.begin() as conn:
            next_transaction = await once_per_transaction(conn, "config", load)
    finally:
        await engine.dispose()
    assert (first, again, other, next_transaction) == (1, 1, 2, 3)


async def test_a_kept_object_lives_for_its_transaction_only(tmp_path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'kept.db'}", poolclass=sa.pool.StaticPool)
    try:
        async with engine.begin() as conn:
            kept = kept_for_transaction(conn, "states", dict)
            kept["a"] = 1
            again = kept_for_transaction(conn, "states", dict)
        async with engine.begin() as conn:
            next_transaction = kept_for_transaction(conn, "states", dict)
    finally:
        await engine.dispose()
    assert again is kept and again == {"a": 1}
    assert next_transaction == {}
