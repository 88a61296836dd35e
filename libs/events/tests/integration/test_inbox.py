"""Inbox contract: a redelivered event is a no-op, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import sqlalchemy as sa
from helpdesk_events.envelope import Envelope
from helpdesk_events.inbox import record_new, record_once, transactional_handler
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

EFFECTS = sa.table("effects", sa.column("event_id", sa.Uuid), sa.column("n", sa.Integer))


async def count_effects(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(sa.select(sa.func.count()).select_from(EFFECTS)))


async def test_record_once_is_true_only_the_first_time_per_consumer(store: AsyncEngine) -> None:
    event_id = uuid.uuid4()
    async with store.begin() as conn:
        assert await record_once(conn, "metrics", event_id) is True
        assert await record_once(conn, "metrics", event_id) is False
        assert await record_once(conn, "sla", event_id) is True
    async with store.begin() as conn:
        assert await record_once(conn, "metrics", event_id) is False


async def test_record_new_returns_only_the_ids_not_recorded_before(store: AsyncEngine) -> None:
    seen, fresh, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with store.begin() as conn:
        assert await record_once(conn, "metrics", seen) is True
    async with store.begin() as conn:
        assert await record_new(conn, "metrics", [seen, fresh, fresh, other]) == {fresh, other}
        assert await record_new(conn, "metrics", [fresh, other]) == set()
        assert await record_new(conn, "sla", [seen, fresh]) == {seen, fresh}


async def test_a_batch_handles_each_new_event_once_in_order(store: AsyncEngine, make_ping) -> None:
    handled: list[int] = []

    async def count(conn: AsyncConnection, envelope: Envelope) -> None:
        handled.append(envelope.data.n)
        await conn.execute(sa.insert(EFFECTS).values(event_id=envelope.id, n=envelope.data.n))

    handle = transactional_handler(store, "batcher", count)
    first, second, third = make_ping(1), make_ping(2), make_ping(3)
    await handle(first)
    await handle.batch([second, first, third, second])
    await handle.batch([first, second, third])
    assert handled == [1, 2, 3]
    assert await count_effects(store) == 3


async def test_redelivered_event_has_its_effects_counted_once(
    store: AsyncEngine, make_ping
) -> None:
    async def count(conn: AsyncConnection, envelope: Envelope) -> None:
        await conn.execute(sa.insert(EFFECTS).values(event_id=envelope.id, n=envelope.data.n))

    handle = transactional_handler(store, "counter", count)
    first, second = make_ping(1), make_ping(2)
    for envelope in (first, first, second, first, second):
        await handle(envelope)
    assert await count_effects(store) == 2


async def test_failed_handler_rolls_back_its_inbox_row_so_the_retry_runs(
    store: AsyncEngine, make_ping
) -> None:
    calls = 0

    async def flaky(conn: AsyncConnection, envelope: Envelope) -> None:
        nonlocal calls
        calls += 1
        await conn.execute(sa.insert(EFFECTS).values(event_id=envelope.id, n=envelope.data.n))
        if calls == 1:
            raise RuntimeError("database hiccup after the effect")

    handle = transactional_handler(store, "flaky", flaky)
    envelope = make_ping(1)
    with pytest.raises(RuntimeError):
        await handle(envelope)
    assert await count_effects(store) == 0
    await handle(envelope)
    await handle(envelope)
    assert calls == 2
    assert await count_effects(store) == 1


async def test_concurrent_deliveries_of_one_event_count_once(store: AsyncEngine, make_ping) -> None:
    async def slow_count(conn: AsyncConnection, envelope: Envelope) -> None:
        await conn.execute(sa.insert(EFFECTS).values(event_id=envelope.id, n=envelope.data.n))
        await asyncio.sleep(0.2)  # keep the first transaction open while the others arrive

    handle = transactional_handler(store, "racer", slow_count)
    envelope = make_ping(1)
    await asyncio.gather(*(handle(envelope) for _ in range(4)))
    assert await count_effects(store) == 1
