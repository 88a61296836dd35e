"""With the real broker: a breach is never decided ahead of the stream that could prevent it."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from helpdesk.testing.broker import TansuBroker
from helpdesk_events import topics
from helpdesk_events.codec import decode, encode
from helpdesk_events.envelope import new_envelope
from helpdesk_events.kafka import ensure_topics, make_producer, read_topic_from_start
from helpdesk_events.tickets import Actor, CommentAdded
from helpdesk_runtime.settings import KafkaSettings

from .conftest import running_sla, utcnow
from .test_timers import add_policy, created


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[str]:
    """A broker of this test's own: the sla consumer group starts at the topic's beginning."""
    tansu = TansuBroker(log_path=tmp_path / "tansu.log")
    tansu.start()
    try:
        yield tansu.bootstrap
    finally:
        tansu.stop()


async def test_a_reply_already_on_the_topic_meets_the_clock_however_overdue(
    broker: str, sqlite_url: str
) -> None:
    await ensure_topics(broker, {name: 3 for name in topics.ALL})
    async with running_sla(sqlite_url, kafka=KafkaSettings(bootstrap_servers=broker)) as sla:
        await add_policy(sla, 2, warn=None)
        runtime = sla.runtime
        deadline = time.monotonic() + 60
        while not runtime.consumers and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        await runtime.consumers[0].wait_assigned()

        # An hour ago: created, answered a second later (in time), published only now, together.
        # The clock is long overdue by the wall clock the moment the creation is handled; the
        # reply right behind it on the partition must still win.
        ticket_id, at = uuid.uuid4(), utcnow() - timedelta(hours=1)
        reply = CommentAdded(ticket_id=ticket_id, occurred_at=at + timedelta(seconds=1),
                             comment_id=uuid.uuid4(), author=Actor(id="a-1", role="agent"),
                             public=True, body="On it")
        producer = make_producer(broker)
        await producer.start()
        try:
            sends = []
            for event in (created(ticket_id, at=at), reply):
                record = encode(new_envelope(event, source="intake", subject=str(ticket_id),
                                             time=event.occurred_at))
                sends.append(await producer.send(record.topic, record.value, key=record.key,
                                                 headers=list(record.headers)))
            await asyncio.gather(*sends)
        finally:
            await producer.stop()

        types: list[str] = []
        while time.monotonic() < deadline:
            records = await read_topic_from_start(broker, topics.SLA)
            types = [e.type for e in map(decode, (r.value for r in records))
                     if e.subject == str(ticket_id)]
            if "helpdesk.sla.met.v1" in types:
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(0.5)  # a wrong breach would be published by now too
        records = await read_topic_from_start(broker, topics.SLA)
        types = [e.type for e in map(decode, (r.value for r in records)) if e.subject == str(ticket_id)]
        assert "helpdesk.sla.met.v1" in types
        assert "helpdesk.sla.breached.v1" not in types
