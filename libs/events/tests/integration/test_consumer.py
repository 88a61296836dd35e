"""Consumer runner on a real broker: DLQ, retries, offsets after the handler, rebalances."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence

import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from helpdesk_events.codec import encode
from helpdesk_events.envelope import Envelope
from helpdesk_events.inbox import transactional_handler
from helpdesk_events.kafka import ConsumerRunner, read_topic_from_start
from helpdesk_events.topics import dlq
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

#: Fast group joins on Tansu (a join there takes about half the session timeout).
FAST_GROUP = {"session_timeout_ms": 2000, "heartbeat_interval_ms": 400}
EFFECTS = sa.table("effects", sa.column("event_id", sa.Uuid), sa.column("n", sa.Integer))


async def produce(producer: AIOKafkaProducer, topic: str, envelopes: Sequence[Envelope]) -> None:
    for envelope in envelopes:
        record = encode(envelope)
        await producer.send_and_wait(
            topic, record.value, key=record.key, headers=list(record.headers)
        )


async def eventually(
    condition: Callable[[], bool | Awaitable[bool]], timeout: float = 30.0
) -> None:
    async with asyncio.timeout(timeout):
        while True:
            result = condition()
            if not isinstance(result, bool):
                result = await result
            if result:
                return
            await asyncio.sleep(0.05)


class Member:
    """A started ConsumerRunner with run() in a task."""

    def __init__(self, runner: ConsumerRunner) -> None:
        self.runner = runner
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> ConsumerRunner:
        await self.runner.start()
        self.task = asyncio.create_task(self.runner.run())
        return self.runner

    async def __aexit__(self, *exc: object) -> None:
        await self.runner.stop()
        assert self.task is not None
        await self.task


def runner(
    bootstrap: str, group: str, topic: str, handle, producer: AIOKafkaProducer, **kw
) -> ConsumerRunner:
    return ConsumerRunner(
        bootstrap, group, [topic], handle, producer=producer, consumer_options=FAST_GROUP, **kw
    )


async def effects(engine: AsyncEngine) -> list[int]:
    async with engine.connect() as conn:
        return sorted((await conn.scalars(sa.select(EFFECTS.c.n))).all())


async def test_malformed_records_go_to_the_dlq_and_the_consumer_keeps_going(
    kafka_bootstrap: str, producer: AIOKafkaProducer, topic_factory, make_ping
) -> None:
    topic = await topic_factory(partitions=1)
    handled: list[int] = []

    async def handle(envelope: Envelope) -> None:
        handled.append(envelope.data.n)

    await produce(producer, topic, [make_ping(1)])
    await producer.send_and_wait(topic, b"{not json", key=b"k1", headers=[("x-trace", b"abc")])
    await producer.send_and_wait(
        topic,
        b'{"specversion":"1.0","id":"x","source":"s","type":"helpdesk.nope.v1",'
        b'"subject":"s","time":"2024-01-01T00:00:00Z","data":{}}',
        key=b"k2",
    )
    await produce(producer, topic, [make_ping(2)])

    async with Member(
        runner(kafka_bootstrap, f"g-{uuid.uuid4()}", topic, handle, producer)
    ) as member:
        await eventually(lambda: handled == [1, 2] and member.dlq_total == 2)
        assert member.handled_total == 2

    dead = await read_topic_from_start(kafka_bootstrap, dlq(topic))
    assert [record.key for record in dead] == [b"k1", b"k2"]
    assert dead[0].value == b"{not json"
    first, second = (dict(record.headers) for record in dead)
    assert first["x-trace"] == b"abc"  # original headers preserved
    assert first["error_type"] == b"helpdesk_events.codec.MalformedRecord"
    assert b"not JSON" in first["error"]
    assert second["error_type"] == b"helpdesk_events.codec.UnknownEventType"
    assert b"helpdesk.nope.v1" in second["error"]
    for headers, offset in ((first, b"1"), (second, b"2")):
        assert headers["original_topic"] == topic.encode()
        assert headers["original_partition"] == b"0"
        assert headers["original_offset"] == offset
        assert headers["consumer_group"].startswith(b"g-")


async def test_failing_handler_is_retried_then_dead_lettered_but_transient_errors_only_wait(
    kafka_bootstrap: str, producer: AIOKafkaProducer, topic_factory, make_ping
) -> None:
    topic = await topic_factory(partitions=1)
    attempts: Counter[int] = Counter()
    handled: list[int] = []

    async def handle(envelope: Envelope) -> None:
        n = envelope.data.n
        attempts[n] += 1
        if n == 2:
            raise RuntimeError("boom on 2")
        if n == 3 and attempts[n] <= 4:
            raise ConnectionError("database unreachable")  # transient: retried past max_retries
        handled.append(n)

    poison = make_ping(2)
    await produce(producer, topic, [make_ping(1), poison, make_ping(3), make_ping(4)])
    member = runner(
        kafka_bootstrap,
        f"g-{uuid.uuid4()}",
        topic,
        handle,
        producer,
        max_retries=2,
        retry_backoff=0.05,
    )
    async with Member(member):
        await eventually(lambda: handled == [1, 3, 4])
    assert attempts == {1: 1, 2: 3, 3: 5, 4: 1}  # poison: 1 try + 2 retries, then the DLQ
    assert member.dlq_total == 1

    [dead] = await read_topic_from_start(kafka_bootstrap, dlq(topic))
    headers = dict(dead.headers)
    assert dead.value == encode(poison).value and dead.key == encode(poison).key
    assert headers["error"] == b"RuntimeError: boom on 2"
    assert headers["error_type"] == b"builtins.RuntimeError"
    assert headers["error_attempts"] == b"3"
    assert headers["original_offset"] == b"1"
    assert headers["ce_id"] == str(poison.id).encode()


async def test_restarted_consumer_resumes_after_the_last_handled_record_and_counts_once(
    kafka_bootstrap: str,
    producer: AIOKafkaProducer,
    topic_factory,
    make_ping,
    sqlite_store: AsyncEngine,
) -> None:
    topic = await topic_factory(partitions=1)
    group = f"g-{uuid.uuid4()}"
    pings = [make_ping(n) for n in range(1, 9)]
    deliveries: list[int] = []
    stuck = asyncio.Event()

    async def count(conn: AsyncConnection, envelope: Envelope) -> None:
        await conn.execute(sa.insert(EFFECTS).values(event_id=envelope.id, n=envelope.data.n))
        if envelope.data.n == 4 and not stuck.is_set():
            stuck.set()
            await asyncio.Event().wait()  # the process dies in the middle of this record

    inbox_handle = transactional_handler(sqlite_store, "counter", count)

    async def handle(envelope: Envelope) -> None:
        deliveries.append(envelope.data.n)
        await inbox_handle(envelope)

    await produce(producer, topic, pings[:6])
    first = runner(kafka_bootstrap, group, topic, handle, producer)
    await first.start()
    running = asyncio.create_task(first.run())
    await eventually(stuck.is_set)
    running.cancel()  # crash: record 4's transaction rolls back, its offset is never committed
    await asyncio.gather(running, return_exceptions=True)
    await first.stop()  # commits what was handled: 1..3
    assert await effects(sqlite_store) == [1, 2, 3]

    await produce(producer, topic, [*pings[6:], pings[1]])  # 7, 8 and a redelivery of 2
    deliveries.clear()
    async with Member(runner(kafka_bootstrap, group, topic, handle, producer)):
        await eventually(lambda: len(deliveries) == 6)
    assert deliveries == [4, 5, 6, 7, 8, 2]  # resumed at the unfinished record
    assert await effects(sqlite_store) == list(range(1, 9))  # the redelivered 2 was a no-op


async def test_rebalances_between_two_members_lose_nothing_and_count_once(
    kafka_bootstrap: str,
    producer: AIOKafkaProducer,
    topic_factory,
    make_ping,
    sqlite_store: AsyncEngine,
) -> None:
    topic = await topic_factory(partitions=3)
    group = f"g-{uuid.uuid4()}"

    async def count(conn: AsyncConnection, envelope: Envelope) -> None:
        await conn.execute(sa.insert(EFFECTS).values(event_id=envelope.id, n=envelope.data.n))
        await asyncio.sleep(0.005)  # slow enough that rebalances land mid-stream

    handle = transactional_handler(sqlite_store, "counter", count)
    keys = [uuid.uuid4() for _ in range(6)]
    pings = [make_ping(n, keys[n % 6]) for n in range(90)]

    async def total() -> bool:
        return len(await effects(sqlite_store)) == expected

    a = runner(kafka_bootstrap, group, topic, handle, producer)
    b = runner(kafka_bootstrap, group, topic, handle, producer)
    async with Member(a):
        await produce(producer, topic, pings[:30])
        expected = 10
        await eventually(lambda: a.handled_total >= 10)
        async with Member(b):  # joining revokes A's partitions mid-stream
            await produce(producer, topic, pings[30:60])
            await b.wait_assigned()
            expected = 60
            await eventually(total)
            assert a.assigned and b.assigned and not (a.assigned & b.assigned)
        await produce(producer, topic, pings[60:])  # B left: A owns every partition again
        expected = 90
        await eventually(total)
    assert await effects(sqlite_store) == list(range(90))


async def test_fetched_records_are_handled_in_one_transaction_and_a_poison_one_only_costs_a_rollback(
    kafka_bootstrap: str, producer: AIOKafkaProducer, topic_factory, make_ping, store: AsyncEngine
) -> None:
    topic = await topic_factory(partitions=1)
    attempts: Counter[int] = Counter()

    async def count(conn: AsyncConnection, envelope: Envelope) -> None:
        n = envelope.data.n
        attempts[n] += 1
        await conn.execute(sa.insert(EFFECTS).values(event_id=envelope.id, n=n))
        if n == 13:
            raise RuntimeError("poison")

    handler = transactional_handler(store, "batched", count)
    pings = [make_ping(n) for n in range(1, 21)]
    # Waiting before the consumer joins, so fetches bring many at once; 3 comes twice.
    await produce(producer, topic, [*pings, pings[2]])
    member = runner(kafka_bootstrap, f"g-{uuid.uuid4()}", topic, handler, producer,
                    handle_batch=handler.batch, max_retries=1, retry_backoff=0.01)
    async with Member(member):
        await eventually(lambda: member.handled_total + member.dlq_total == 21)
    assert await effects(store) == [n for n in range(1, 21) if n != 13]  # 3 counted once
    assert member.dlq_total == 1
    # Fewer transactions than records. Each batch holding 13 rolled back as a whole and was
    # retried in halves; alone, 13 had 1 try + 1 retry, then the DLQ.
    assert 1 <= member.batches_total < 20 and member.batch_fallbacks_total >= 1
    assert attempts[13] == member.batch_fallbacks_total + 2
    [dead] = await read_topic_from_start(kafka_bootstrap, dlq(topic))
    assert dead.value == encode(pings[12]).value
