"""pytest fixtures: a real PostgreSQL, SQLite files and a real Kafka-compatible broker.

Loaded from the root conftest (`pytest_plugins = ["helpdesk.testing.fixtures"]`). The
PostgreSQL cluster and the broker start once per session, lazily (only when a test asks
for them), and die with the session. `TEST_DATABASE_URL` (a server where we may create
databases) and `KAFKA_BOOTSTRAP_SERVERS` use existing servers instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from helpdesk.testing.broker import TansuBroker
from helpdesk.testing.postgres import PostgresCluster, create_database, drop_database

TopicFactory = Callable[..., Awaitable[str]]


@pytest.fixture(scope="session")
def pg_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a PostgreSQL server we may create databases on (postgresql+asyncpg://...)."""
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        yield external
        return
    cluster = PostgresCluster(log_path=tmp_path_factory.mktemp("postgres") / "postgres.log")
    cluster.start()
    try:
        yield cluster.url
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_server_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    url = create_database(pg_server_url, name)
    try:
        yield url
    finally:
        drop_database(pg_server_url, name)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite database file for this test."""
    return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """A fresh database, once on SQLite and once on PostgreSQL: one suite, both backends."""
    return str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url"))


@pytest.fixture
async def db_engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine (helpdesk_runtime.db.create_engine) on `db_url`, disposed after the test."""
    from helpdesk_runtime.db import create_engine

    engine = create_engine(db_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Bootstrap servers of a real broker: spawned Tansu, or KAFKA_BOOTSTRAP_SERVERS."""
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
        return
    broker = TansuBroker(log_path=tmp_path_factory.mktemp("tansu") / "tansu.log")
    broker.start()
    try:
        yield broker.bootstrap
    finally:
        broker.stop()


@pytest.fixture
def unique_topic() -> str:
    """A topic name no other test uses (not created: see `topic_factory`)."""
    return f"test.{uuid.uuid4().hex[:12]}"


@pytest.fixture
def topic_factory(kafka_bootstrap: str) -> TopicFactory:
    """`await topic_factory(partitions=1)`: a new private topic (and its `.dlq`), by name."""
    from helpdesk_events.kafka import ensure_topics

    async def create(partitions: int = 1, *, prefix: str = "test") -> str:
        name = f"{prefix}.{uuid.uuid4().hex[:12]}"
        await ensure_topics(kafka_bootstrap, {name: partitions})
        return name

    return create
