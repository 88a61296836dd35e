"""Shared pieces of the delivery contract suite: a test-only event, tables, a producer."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from helpdesk_events.envelope import EVENT_TYPES, Envelope, Event, new_envelope
from helpdesk_events.kafka import ensure_topics, make_producer
from helpdesk_events.tables import events_table, inbox_table, outbox_table, published_table
from sqlalchemy.ext.asyncio import AsyncEngine

MakePing = Callable[..., Envelope]


@pytest.fixture(scope="module")
def ping_class() -> Iterator[type[Event]]:
    """A test-only event on a topic private to the module, unregistered afterwards."""

    class Pinged(Event):
        TYPE = "helpdesk.test.pinged.v1"
        TOPIC = f"test.pings.{uuid.uuid4().hex[:12]}"

        n: int
        note: str = ""

    yield Pinged
    EVENT_TYPES.pop(Pinged.TYPE, None)


@pytest.fixture
def make_ping(ping_class: type[Event]) -> MakePing:
    """`make_ping(n, key=..., note=...)` -> an Envelope of the test event keyed by `key`."""

    def make(n: int, key: uuid.UUID | str | None = None, **fields: Any) -> Envelope:
        subject = str(key or uuid.uuid4())
        return new_envelope(
            ping_class(n=n, **fields),
            source="test",
            subject=subject,
            time=datetime.now(UTC),
        )

    return make


@pytest.fixture
def metadata() -> sa.MetaData:
    """A service-like MetaData: outbox, published log, inbox, event store and an `effects` table."""
    md = sa.MetaData()
    outbox_table(md)
    published_table(md)
    inbox_table(md)
    events_table(md)
    sa.Table(
        "effects",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("event_id", sa.Uuid, nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
    )
    return md


@pytest.fixture
async def store(db_engine: AsyncEngine, metadata: sa.MetaData) -> AsyncEngine:
    """`db_engine` (SQLite and PostgreSQL) with the delivery tables created."""
    async with db_engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    return db_engine


@pytest.fixture
async def sqlite_store(sqlite_url: str, metadata: sa.MetaData) -> AsyncIterator[AsyncEngine]:
    """A SQLite-only engine with the delivery tables created."""
    from helpdesk_runtime.db import create_engine

    engine = create_engine(sqlite_url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def pg_store(pg_url: str, metadata: sa.MetaData) -> AsyncIterator[AsyncEngine]:
    """A PostgreSQL-only engine with the delivery tables created."""
    from helpdesk_runtime.db import create_engine

    engine = create_engine(pg_url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    """A started producer (acks=all, no idempotence) on the test broker."""
    producer = make_producer(kafka_bootstrap, client_id="test")
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


@pytest.fixture
async def ping_topic(kafka_bootstrap: str, ping_class: type[Event]) -> str:
    """The test event's topic, created with 3 partitions (and its DLQ)."""
    await ensure_topics(kafka_bootstrap, {ping_class.TOPIC: 3})
    return ping_class.TOPIC
