"""The published log: acknowledged rows are retained, pruned after the retention, and
`republish` delivers them again under the same event ids (SQLite and PostgreSQL, real broker)."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from helpdesk_events.codec import decode
from helpdesk_events.kafka import read_topic_from_start
from helpdesk_events.outbox import (
    OutboxRelay,
    add_to_outbox,
    pending_count,
    republish,
    retained_count,
)
from helpdesk_events.tables import OUTBOX_TABLE, PUBLISHED_TABLE
from sqlalchemy.ext.asyncio import AsyncEngine

RETAIN = timedelta(hours=72)


async def deliveries(bootstrap: str, topic: str, ids: set[uuid.UUID]) -> dict[uuid.UUID, int]:
    """How often each of `ids` is on `topic`."""
    counts: dict[uuid.UUID, int] = defaultdict(int)
    for record in await read_topic_from_start(bootstrap, topic):
        envelope = decode(record.value)
        if envelope.id in ids:
            counts[envelope.id] += 1
    return dict(counts)


async def test_published_rows_are_retained_as_the_outbox_stored_them(
    store: AsyncEngine, producer: AIOKafkaProducer, ping_topic: str, make_ping
) -> None:
    envelopes = [make_ping(n) for n in range(6)]
    async with store.begin() as conn:
        await add_to_outbox(conn, envelopes)
    async with store.connect() as conn:
        queued = (await conn.execute(
            sa.select(OUTBOX_TABLE).order_by(OUTBOX_TABLE.c.position))).all()

    before = datetime.now(UTC) - timedelta(seconds=1)
    assert await OutboxRelay(store, producer, retain=RETAIN).publish_pending() == 6

    async with store.connect() as conn:
        assert await pending_count(conn) == 0
        kept = (await conn.execute(
            sa.select(PUBLISHED_TABLE).order_by(PUBLISHED_TABLE.c.position))).all()
    assert [r.event_id for r in kept] == [e.id for e in envelopes]
    for copy, original in zip(kept, queued, strict=True):
        assert (copy.position, copy.event_type, copy.topic, bytes(copy.key), bytes(copy.value),
                copy.headers) == (original.position, original.event_type, original.topic,
                                  bytes(original.key), bytes(original.value), original.headers)
        assert copy.published_at.replace(tzinfo=copy.published_at.tzinfo or UTC) >= before


async def test_relay_without_retention_keeps_no_copy(
    store: AsyncEngine, producer: AIOKafkaProducer, ping_topic: str, make_ping
) -> None:
    async with store.begin() as conn:
        await add_to_outbox(conn, [make_ping(1), make_ping(2)])
    assert await OutboxRelay(store, producer).publish_pending() == 2
    async with store.connect() as conn:
        assert await retained_count(conn) == 0


async def test_copies_older_than_the_retention_are_pruned_by_the_running_relay(
    store: AsyncEngine, producer: AIOKafkaProducer, ping_topic: str, make_ping
) -> None:
    old, recent = [make_ping(n) for n in range(3)], [make_ping(n) for n in range(3, 5)]
    relay = OutboxRelay(store, producer, retain=RETAIN, prune_interval=0.05, poll_interval=0.05)
    async with store.begin() as conn:
        await add_to_outbox(conn, old)
    await relay.publish_pending()
    async with store.begin() as conn:
        await conn.execute(sa.update(PUBLISHED_TABLE).values(
            published_at=datetime.now(UTC) - RETAIN - timedelta(minutes=1)))
        await add_to_outbox(conn, recent)

    task = asyncio.create_task(relay.run())
    try:
        for _ in range(100):
            async with store.connect() as conn:
                ids = set((await conn.execute(sa.select(PUBLISHED_TABLE.c.event_id))).scalars())
            if ids == {e.id for e in recent}:
                break
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert ids == {e.id for e in recent}


async def test_republish_delivers_retained_envelopes_again_with_the_same_ids_once_each(
    store: AsyncEngine, producer: AIOKafkaProducer, kafka_bootstrap: str, ping_topic: str, make_ping
) -> None:
    key = uuid.uuid4()
    early = [make_ping(n, key) for n in range(3)]
    late = [make_ping(n, key) for n in range(3, 6)]
    relay = OutboxRelay(store, producer, retain=RETAIN)
    async with store.begin() as conn:
        await add_to_outbox(conn, early)
    await relay.publish_pending()
    async with store.begin() as conn:
        await conn.execute(sa.update(PUBLISHED_TABLE).values(
            published_at=datetime.now(UTC) - timedelta(hours=1)))
    cut = datetime.now(UTC) - timedelta(minutes=1)
    async with store.begin() as conn:
        await add_to_outbox(conn, late)
    await relay.publish_pending()

    async with store.begin() as conn:
        assert await republish(conn, cut) == 3  # only what was published since `cut`
    assert await relay.publish_pending() == 3
    async with store.begin() as conn:
        # Everything; the envelopes published twice by now are queued once each.
        assert await republish(conn) == 6
    assert await relay.publish_pending() == 6

    ids = {e.id for e in early + late}
    assert await deliveries(kafka_bootstrap, ping_topic, ids) == (
        {e.id: 2 for e in early} | {e.id: 3 for e in late})
    # Per key, each round came in the original order.
    records = await read_topic_from_start(kafka_bootstrap, ping_topic)
    order = [decode(r.value).data.n for r in records if r.key == str(key).encode()]
    assert order == [0, 1, 2, 3, 4, 5, 3, 4, 5, 0, 1, 2, 3, 4, 5]


async def test_republish_with_nothing_retained_queues_nothing(store: AsyncEngine) -> None:
    async with store.begin() as conn:
        assert await republish(conn, datetime.now(UTC) - RETAIN) == 0
        assert await pending_count(conn) == 0
