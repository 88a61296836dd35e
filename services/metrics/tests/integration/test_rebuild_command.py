"""`helpdesk rebuild`: the CLI replays a broker's topics into metrics' database, KPI facts included."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from helpdesk.cli import app as cli
from helpdesk.testing.broker import TansuBroker
from helpdesk_events import topics
from helpdesk_events.codec import encode
from helpdesk_events.kafka import ensure_topics, make_producer
from helpdesk_metrics.app import MIGRATIONS
from helpdesk_metrics.tables import ticket_facts
from helpdesk_runtime.db import create_engine
from helpdesk_runtime.migrations import upgrade

from ..conftest import build_reference


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[str]:
    """A broker holding only this test's records (the rebuild reads every topic from offset 0)."""
    tansu = TansuBroker(log_path=tmp_path / "tansu.log")
    tansu.start()
    try:
        yield tansu.bootstrap
    finally:
        tansu.stop()


async def _publish_reference(bootstrap: str) -> int:
    await ensure_topics(bootstrap, {name: 3 for name in topics.ALL})
    envelopes = build_reference().history.envelopes
    producer = make_producer(bootstrap)
    await producer.start()
    try:
        for envelope in envelopes:
            record = encode(envelope)
            await producer.send_and_wait(record.topic, record.value, key=record.key,
                                         headers=list(record.headers))
    finally:
        await producer.stop()
    return len(envelopes)


async def _migrate_and_count(url: str, *, migrate: bool) -> int:
    engine = create_engine(url)
    try:
        if migrate:
            await upgrade(engine, MIGRATIONS)
        async with engine.connect() as conn:
            return int(await conn.scalar(sa.select(sa.func.count()).select_from(ticket_facts)) or 0)
    finally:
        await engine.dispose()


def test_rebuild_command_replays_every_topic_into_the_database(broker: str, sqlite_url: str) -> None:
    published = asyncio.run(_publish_reference(broker))
    assert asyncio.run(_migrate_and_count(sqlite_url, migrate=True)) == 0

    result = CliRunner().invoke(cli, ["rebuild"], env={
        "METRICS_DATABASE_URL": sqlite_url, "KAFKA_BOOTSTRAP_SERVERS": broker})

    assert result.exit_code == 0, result.output
    assert f"rebuilt from {published} records (0 undecodable): 5 tickets" in result.output
    assert asyncio.run(_migrate_and_count(sqlite_url, migrate=False)) == 5
