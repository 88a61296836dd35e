"""Rebuild: replay every topic from offset 0 into fresh tables, then switch the live ones over.

1. Every record of the four topics, read from offset 0 without a consumer group, is folded
   in memory (`Projection`): the same `writes.writes_for` the live handler carries out in SQL,
   with the same meaning per write mode, each event id once (as the inbox does), and each
   ticket's fact folded from its events in stream order with `facts.fold`.
2. Catch up: read again from where the replay stopped until a read brings nothing new.
3. Switch in one transaction on the live database: lock the inbox (PostgreSQL: EXCLUSIVE,
   so no consumer transaction commits meanwhile; SQLite has one writer anyway); if the live
   consumer handled an event the replay has not seen yet, go back to 2; else replace the
   projection tables and the consumer's inbox with the replayed rows (bulk inserts). A
   consumer transaction that commits afterwards finds its event in the inbox (skip) or
   applies it on top.
Targets and configuration are not projections: they are kept.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy.ext.asyncio import AsyncEngine

from helpdesk_events import topics
from helpdesk_events.codec import decode
from helpdesk_events.envelope import Envelope
from helpdesk_runtime.settings import KafkaSettings

from .facts import TicketFact, fold
from .rows import fact_values
from .tables import (
    agent_statuses,
    calendars,
    inbox,
    sla_outcomes,
    survey_answers,
    surveys,
    ticket_events,
    ticket_facts,
)
from .writes import NEWER_BY, Mode, TicketChange, Write, writes_for

log = logging.getLogger("helpdesk.metrics.rebuild")

PROJECTIONS = (ticket_facts, ticket_events, sla_outcomes, surveys, survey_answers,
               agent_statuses, calendars)
CHUNK = 1000
MAX_SWITCH_ATTEMPTS = 20


@dataclass(frozen=True)
class RebuildReport:
    """What a rebuild did."""

    records: int
    undecodable: int
    tickets: int
    attempts: int


class TopicReplay:
    """Every partition of the topics, from offset 0, read in catch-up rounds (no group)."""

    def __init__(self, kafka: KafkaSettings, names: tuple[str, ...]) -> None:
        options = kafka.client_options()
        self.consumer = AIOKafkaConsumer(enable_auto_commit=False, auto_offset_reset="earliest",
                                         **options)
        self.names = names

    async def start(self) -> None:
        """Connect, assign every partition and seek to the beginning."""
        await self.consumer.start()
        parts = [TopicPartition(t, p) for t in self.names
                 for p in sorted(await self._partitions(t))]
        self.consumer.assign(parts)
        await self.consumer.seek_to_beginning(*parts)

    async def _partitions(self, topic: str) -> set[int]:
        for _ in range(100):
            found = self.consumer.partitions_for_topic(topic)
            if found:
                return found
            await self.consumer._client.force_metadata_update()  # noqa: SLF001 - no public call
            await asyncio.sleep(0.05)
        return set()

    async def read_round(self) -> AsyncIterator[list[Any]]:
        """Records up to each partition's high watermark (as seen by the fetches), a fetch at a time."""
        remaining = set(self.consumer.assignment())
        idle = 0
        while remaining and idle < 10:
            batch = await self.consumer.getmany(*remaining, timeout_ms=100)
            got = sum(len(v) for v in batch.values())
            idle = 0 if got else idle + 1
            if got:
                yield [record for messages in batch.values() for record in messages]
            for tp in list(remaining):
                highwater = self.consumer.highwater(tp)
                if highwater is not None and await self.consumer.position(tp) >= highwater:
                    remaining.discard(tp)

    async def stop(self) -> None:
        """Disconnect."""
        await self.consumer.stop()


async def topic_records(kafka: KafkaSettings, names: tuple[str, ...]) -> int:
    """How many records the topics hold now (the sum of every partition's end offset)."""
    replay = TopicReplay(kafka, names)
    await replay.start()
    try:
        ends = await replay.consumer.end_offsets(list(replay.consumer.assignment()))
        return sum(ends.values())
    finally:
        await replay.stop()


@dataclass
class Projection:
    """Metrics' projection tables built in memory from replayed events (see module docstring)."""

    consumer_name: str
    seen: set[UUID] = field(default_factory=set)
    rows: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = field(
        default_factory=lambda: defaultdict(dict))
    changes: dict[UUID, list[TicketChange]] = field(default_factory=lambda: defaultdict(list))

    def apply(self, envelope: Envelope) -> None:
        """Fold one event in; an event id seen before changes nothing."""
        if envelope.id in self.seen:
            return
        self.seen.add(envelope.id)
        writes, change = writes_for(envelope)
        for write in writes:
            self._write(write)
        if change is not None:
            self.changes[change.ticket_id].append(change)

    def _write(self, write: Write) -> None:
        table = self.rows[write.table.name]
        known = table.get(write.key)
        if known is None:
            table[write.key] = dict(write.values)
        elif write.mode is Mode.MERGE:
            known.update(write.values)
        elif write.mode is Mode.NEWER and known[NEWER_BY] <= write.values[NEWER_BY]:
            known.update(write.values)

    def facts(self) -> Iterator[dict[str, Any]]:
        """Every ticket_facts row: each ticket's events folded in stream order."""
        partial = self.rows[ticket_facts.name]
        for ticket_id in self.changes.keys() | {key[0] for key in partial}:
            calendar_id = partial.get((ticket_id,), {}).get("calendar_id")
            # The order the live refold reads them in: sequence (missing last), then time.
            changes = sorted(self.changes.get(ticket_id, ()),
                             key=lambda c: (c.sequence is None, c.sequence or 0, c.at))
            fact = (fold(ticket_id, ((c.type, c.data) for c in changes), calendar_id)
                    if changes else TicketFact(ticket_id=ticket_id))
            yield {"ticket_id": ticket_id, "calendar_id": calendar_id, **fact_values(fact)}

    def table_rows(self, table: sa.Table) -> Iterator[dict[str, Any]]:
        """The rows of `table`, every column present (missing ones None)."""
        if table is ticket_facts:
            yield from self.facts()
        elif table is inbox:
            for event_id in self.seen:
                yield {"consumer": self.consumer_name, "event_id": event_id}
        else:
            names = [c.name for c in table.columns]
            for values in self.rows[table.name].values():
                yield {n: values.get(n) for n in names}


async def rebuild(live: AsyncEngine, kafka: KafkaSettings, consumer_name: str,
                  progress: Callable[[int], None] | None = None) -> RebuildReport:
    """Replay the topics into memory and switch the live projections over."""
    replay = TopicReplay(kafka, topics.ALL)
    projection = Projection(consumer_name)
    try:
        await replay.start()
        seen = bad = 0
        for attempt in range(1, MAX_SWITCH_ATTEMPTS + 1):
            fetched = True
            while fetched:
                fetched = False
                async for records in replay.read_round():
                    fetched = True
                    for record in records:
                        try:
                            envelope = decode(record.value)
                        except Exception:  # noqa: BLE001 - poison records are the DLQ's business
                            bad += 1
                            continue
                        projection.apply(envelope)
                        seen += 1
                    if progress is not None:
                        progress(seen)
                    # The fold is CPU only: let the API and the live consumer run between fetches.
                    await asyncio.sleep(0)
            if await _switch(live, projection):
                tickets = len(projection.changes.keys() | {
                    key[0] for key in projection.rows[ticket_facts.name]})
                return RebuildReport(seen, bad, tickets, attempt)
        raise RuntimeError("the live consumer kept ahead of the rebuild; try again")
    finally:
        await replay.stop()


def _chunks(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def _switch(live: AsyncEngine, projection: Projection) -> bool:
    """Replace the live projections with the replayed rows, unless live has seen more events."""
    consumer_name = projection.consumer_name
    async with live.begin() as dst:
        if dst.dialect.name == "postgresql":
            await dst.execute(sa.text(f"LOCK TABLE {inbox.name} IN EXCLUSIVE MODE"))
        handled = set((await dst.execute(sa.select(inbox.c.event_id)
                                          .where(inbox.c.consumer == consumer_name))).scalars())
        if not handled <= projection.seen:
            return False
        for table in PROJECTIONS:
            await dst.execute(table.delete())
        await dst.execute(inbox.delete().where(inbox.c.consumer == consumer_name))
        for table in (*PROJECTIONS, inbox):
            for chunk in _chunks(projection.table_rows(table)):
                await dst.execute(table.insert(), chunk)
    return True
