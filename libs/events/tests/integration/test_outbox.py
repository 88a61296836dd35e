"""Outbox contract: all that commits reaches the broker, in order per key (SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Sequence

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from helpdesk_events.codec import decode
from helpdesk_events.envelope import Envelope
from helpdesk_events.kafka import ensure_topics, make_producer, read_topic_from_start
from helpdesk_events.outbox import OutboxRelay, add_to_outbox, pending_count
from helpdesk_events.tables import OUTBOX_TABLE
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from helpdesk.testing.broker import TansuBroker


class CrashBeforeMark(Exception):
    """Stands in for the relay process dying between the broker's ack and the delete."""


class CrashingRelay(OutboxRelay):
    async def _mark_sent(self, conn: AsyncConnection, rows: Sequence[object]) -> None:
        raise CrashBeforeMark


async def write(engine: AsyncEngine, envelopes: Sequence[Envelope]) -> None:
    async with engine.begin() as conn:
        await add_to_outbox(conn, envelopes)


async def pending(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return await pending_count(conn)


async def published(
    bootstrap: str, topic: str, ids: set[uuid.UUID]
) -> list[tuple[bytes, Envelope, dict]]:
    """(key, envelope, headers) of this test's events on `topic`, in partition order."""
    found = []
    for record in await read_topic_from_start(bootstrap, topic):
        envelope = decode(record.value)
        if envelope.id in ids:
            found.append((record.key, envelope, dict(record.headers), record.partition))
    return found


async def test_relay_publishes_committed_rows_keyed_and_in_order_per_key(
    store: AsyncEngine, producer: AIOKafkaProducer, kafka_bootstrap: str, ping_topic: str, make_ping
) -> None:
    keys = [uuid.uuid4() for _ in range(4)]
    envelopes = []
    for n in range(40):
        envelopes.append(make_ping(n, keys[n % 4]))
    for start in range(0, 40, 8):  # several transactions
        await write(store, envelopes[start : start + 8])
    assert await pending(store) == 40

    relay = OutboxRelay(store, producer)
    assert await relay.publish_pending() == 40
    assert await relay.publish_pending() == 0
    assert relay.published_total == 40 and relay.last_publish_at is not None
    assert await pending(store) == 0

    records = await published(kafka_bootstrap, ping_topic, {e.id for e in envelopes})
    assert sorted(e.id for _, e, _, _ in records) == sorted(e.id for e in envelopes)
    by_key: dict[bytes, list[int]] = defaultdict(list)
    partitions: dict[bytes, set[int]] = defaultdict(set)
    for key, envelope, headers, partition in records:
        assert key == envelope.subject.encode()
        assert headers["ce_id"] == str(envelope.id).encode()
        assert headers["ce_type"] == b"helpdesk.test.pinged.v1"
        by_key[key].append(envelope.data.n)
        partitions[key].add(partition)
    for index, key in enumerate(keys):
        assert by_key[str(key).encode()] == list(range(index, 40, 4))
        assert len(partitions[str(key).encode()]) == 1


async def test_rolled_back_outbox_rows_are_never_published(
    store: AsyncEngine, producer: AIOKafkaProducer, ping_topic: str, make_ping
) -> None:
    with pytest.raises(RuntimeError):
        async with store.begin() as conn:
            await add_to_outbox(conn, [make_ping(1)])
            raise RuntimeError("the state change failed")
    assert await pending(store) == 0
    assert await OutboxRelay(store, producer).publish_pending() == 0


async def test_relay_crash_after_send_before_mark_resends_and_loses_nothing(
    store: AsyncEngine, producer: AIOKafkaProducer, kafka_bootstrap: str, ping_topic: str, make_ping
) -> None:
    key = uuid.uuid4()
    envelopes = [make_ping(n, key) for n in range(10)]
    await write(store, envelopes)

    with pytest.raises(CrashBeforeMark):
        await CrashingRelay(store, producer).publish_pending()
    assert await pending(store) == 10  # acknowledged but not marked: still pending

    assert await OutboxRelay(store, producer).publish_pending() == 10
    assert await pending(store) == 0
    records = await published(kafka_bootstrap, ping_topic, {e.id for e in envelopes})
    # At least once: the crashed batch is on the broker twice, in order both times.
    assert [e.data.n for _, e, _, _ in records] == list(range(10)) * 2


async def test_relay_marks_nothing_while_the_broker_is_down_and_delivers_when_it_is_back(
    store: AsyncEngine, make_ping, ping_class, tmp_path
) -> None:
    broker = TansuBroker(log_path=tmp_path / "tansu.log").start()
    try:
        await ensure_topics(broker.bootstrap, {ping_class.TOPIC: 1})
        producer = make_producer(broker.bootstrap, request_timeout_ms=1000, retry_backoff_ms=100)
        await producer.start()
        try:
            envelopes = [make_ping(n) for n in range(5)]
            await write(store, envelopes)
            broker.stop()
            relay = OutboxRelay(store, producer, poll_interval=0.2, max_backoff=0.5)
            running = asyncio.create_task(relay.run())
            while relay.failures_total < 2:
                await asyncio.sleep(0.1)
            assert await pending(store) == 5
            assert relay.published_total == 0

            broker.start()  # same port, empty memory: the topic is created again
            await ensure_topics(broker.bootstrap, {ping_class.TOPIC: 1})
            async with asyncio.timeout(30):
                while await pending(store):
                    await asyncio.sleep(0.1)
            running.cancel()
            with pytest.raises(asyncio.CancelledError):
                await running
        finally:
            await producer.stop()
        records = await published(broker.bootstrap, ping_class.TOPIC, {e.id for e in envelopes})
        assert [e.data.n for _, e, _, _ in records] == list(range(5))
    finally:
        broker.stop()


async def test_running_relay_publishes_soon_after_commit(
    store: AsyncEngine, producer: AIOKafkaProducer, kafka_bootstrap: str, ping_topic: str, make_ping
) -> None:
    # A long poll interval: only NOTIFY (PostgreSQL) or wake() (in-process) can be this fast.
    relay = OutboxRelay(store, producer, poll_interval=30)
    running = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(0.3)  # the relay is idle, waiting
        envelope = make_ping(1)
        await write(store, [envelope])
        if store.dialect.name != "postgresql":
            relay.wake()
        async with asyncio.timeout(5):
            while relay.published_total < 1:
                await asyncio.sleep(0.02)
    finally:
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
    assert await pending(store) == 0


async def test_row_that_commits_late_is_delivered_not_skipped(
    pg_store: AsyncEngine,
    producer: AIOKafkaProducer,
    kafka_bootstrap: str,
    ping_topic: str,
    make_ping,
) -> None:
    """PostgreSQL: txn A takes the lower position but commits after txn B's higher one."""
    early, late = make_ping(1), make_ping(2)
    relay = OutboxRelay(pg_store, producer)
    async with pg_store.connect() as a, pg_store.connect() as b:
        await a.begin()
        await b.begin()
        # B starts first (older transaction id), A inserts first (lower position).
        await b.execute(sa.select(sa.func.pg_current_xact_id()))
        await add_to_outbox(a, [late])
        await add_to_outbox(b, [early])
        await b.commit()

        rows = await a.execute(sa.select(OUTBOX_TABLE.c.event_id, OUTBOX_TABLE.c.position))
        positions = {row.event_id: row.position for row in rows}
        assert positions[late.id] < positions[early.id]
        assert await relay.publish_pending() == 1  # B's row: its transaction has ended
        on_broker = await published(kafka_bootstrap, ping_topic, {early.id, late.id})
        assert [e.id for _, e, _, _ in on_broker] == [early.id]
        assert await pending(pg_store) == 0  # A's row is invisible until it commits...

        await a.commit()
    assert await pending(pg_store) == 1  # ...and then still there: not skipped
    assert await relay.publish_pending() == 1
    on_broker = await published(kafka_bootstrap, ping_topic, {early.id, late.id})
    assert sorted(e.data.n for _, e, _, _ in on_broker) == [1, 2]


async def test_open_transaction_holds_back_younger_rows_until_it_ends(
    pg_store: AsyncEngine,
    producer: AIOKafkaProducer,
    kafka_bootstrap: str,
    ping_topic: str,
    make_ping,
) -> None:
    """PostgreSQL: a committed row younger than a running writer waits for it (order kept)."""
    first, second = make_ping(1), make_ping(2)
    relay = OutboxRelay(pg_store, producer)
    async with pg_store.connect() as a:
        await a.begin()
        await add_to_outbox(a, [first])  # lower position, older transaction, still open
        await write(pg_store, [second])
        assert await relay.publish_pending() == 0
        await a.commit()
    assert await relay.publish_pending() == 2
    on_broker = await published(kafka_bootstrap, ping_topic, {first.id, second.id})
    assert sorted(e.data.n for _, e, _, _ in on_broker) == [1, 2]
