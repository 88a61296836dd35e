"""Through a real broker: every event reaches helpdesk.tickets keyed and in order; decisions in."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any
from uuid import uuid4

from aiokafka import AIOKafkaConsumer

from helpdesk.testing.auth import bearer
from helpdesk_events import topics
from helpdesk_events.codec import decode, encode
from helpdesk_events.envelope import new_envelope
from helpdesk_events.kafka import make_producer
from helpdesk_events.routing import RoutingDecided

from .support import Intake, MakeIntake


class TopicReader:
    """A plain consumer on every partition of a topic, from the beginning, no group."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        # Without a group_id aiokafka assigns every partition of the topic to this consumer.
        self._consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap,
                                          enable_auto_commit=False, auto_offset_reset="earliest")
        #: (partition, key, event id, sequence) of every record read so far, in partition order.
        self.records: list[tuple[int, str, str, int | None]] = []

    async def __aenter__(self) -> TopicReader:
        await self._consumer.start()
        async with asyncio.timeout(10):
            while not self._consumer.assignment():
                await asyncio.sleep(0.05)
        await self._consumer.seek_to_beginning(*self._consumer.assignment())
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._consumer.stop()

    async def read_until(self, done: Callable[[], bool], timeout: float = 30.0) -> None:
        """Keep reading until `done()` holds (or fail after `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while not done():
            assert time.monotonic() < deadline, "the topic never got the expected records"
            batch = await self._consumer.getmany(timeout_ms=200)
            for records in batch.values():
                for record in records:
                    envelope = decode(record.value)
                    self.records.append((record.partition, record.key.decode(),
                                         str(envelope.id), envelope.sequence))


async def _wait_until(check: Callable[[], Any], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)


async def _write_history(intake: Intake) -> list[str]:
    """A few tickets with every kind of change, including a merge across two streams."""
    ids = []
    for i in range(3):
        ticket = await intake.create(subject=f"Broker ticket {i}")
        tid = ticket["id"]
        ids.append(tid)
        await intake.command(tid, "comments", {"body": "Looking into it."})
        await intake.http.patch(f"/v1/tickets/{tid}", json={"urgency": "low", "tags": ["kafka"]})
        await intake.command(tid, "worklogs", {"seconds": 60, "kind": "research"})
    await intake.command(ids[0], "resolve", {"resolution_code": "fixed"})
    await intake.command(ids[1], "merge", {"target_ticket_id": ids[2]})
    return ids


async def test_every_event_reaches_the_topic_keyed_in_order_and_replays(
    make_intake: MakeIntake, kafka_bootstrap: str
) -> None:
    # A group of its own: joining never waits for a member another test left behind.
    async with make_intake(kafka=kafka_bootstrap, name=f"intake-{uuid4().hex[:8]}") as intake:
        ids = await _write_history(intake)

        # A routing decision comes in over Kafka and becomes a ticket event.
        producer = make_producer(kafka_bootstrap, client_id="test-routing")
        await producer.start()
        try:
            decided = new_envelope(
                RoutingDecided(ticket_id=ids[0], tier=1, team="network", agent="agent-7",
                               strategy="skills_match", reason="VPN"),
                source="routing", subject=ids[0], time=datetime.now(timezone.utc),
            )
            await intake.command(ids[0], "reopen", {"reason": "still broken"})
            record = encode(decided)
            await producer.send_and_wait(record.topic, record.value, key=record.key,
                                         headers=list(record.headers))
        finally:
            await producer.stop()

        async def assigned() -> bool:
            return (await intake.ticket(ids[0]))["agent"] == "agent-7"

        await _wait_until(assigned, timeout=45)

        expected = {tid: [e["id"] for e in await intake.events(tid)] for tid in ids}
        wanted = {event_id for events in expected.values() for event_id in events}

        def mine(reader: TopicReader) -> list[tuple[int, str, str, int | None]]:
            return [r for r in reader.records if r[1] in expected]

        async with TopicReader(kafka_bootstrap, topics.TICKETS) as reader:
            await reader.read_until(lambda: {r[2] for r in mine(reader)} >= wanted)
            _check_order(mine(reader), expected)
            published = len(mine(reader))

            response = await intake.http.post("/v1/admin/replay", headers=bearer("admin"))
            assert response.status_code == 202
            await reader.read_until(lambda: {r[2] for r in mine(reader)[published:]} >= wanted)
            _check_order(mine(reader)[published:], expected)


def _check_order(records: list[tuple[int, str, str, int | None]],
                 expected: dict[str, list[str]]) -> None:
    """Each ticket's records: keyed by its id, on one partition, in version order, none missing.

    Delivery is at least once: a re-sent batch repeats records, so each event counts where it
    first appeared.
    """
    by_ticket: dict[str, list[tuple[int, str, int | None]]] = defaultdict(list)
    seen: set[str] = set()
    for partition, key, event_id, sequence in records:
        if event_id not in seen:
            seen.add(event_id)
            by_ticket[key].append((partition, event_id, sequence))
    assert by_ticket.keys() == expected.keys()
    for ticket_id, got in by_ticket.items():
        assert len({partition for partition, _, _ in got}) == 1, ticket_id
        assert [event_id for _, event_id, _ in got] == expected[ticket_id], ticket_id
        assert [sequence for _, _, sequence in got] == list(range(1, len(got) + 1))
