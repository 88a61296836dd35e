"""Rebuild: replay every topic from offset 0 into fresh tables, then switch the live ones over.

1. A scratch SQLite database gets fresh projection tables; every record of the four topics,
   read from offset 0 without a consumer group, goes through the same `handlers.handle`
   (inside the same inbox wrapper, so duplicates on the topics count once).
2. Catch up: read again from where the replay stopped until a read brings nothing new.
3. Switch in one transaction on the live database: lock the inbox (PostgreSQL: EXCLUSIVE,
   so no consumer transaction commits meanwhile; SQLite has one writer anyway); if the live
   consumer handled an event the replay has not seen yet, go back to 2; else replace the
   projection tables and the consumer's inbox with the scratch ones. A consumer transaction
   that commits afterwards finds its event in the inbox (skip) or applies it on top.
Targets and configuration are not projections: they are kept.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy.ext.asyncio import AsyncEngine

from helpdesk_events import topics
from helpdesk_events.codec import decode
from helpdesk_events.inbox import transactional_handler
from helpdesk_runtime.db import create_engine
from helpdesk_runtime.settings import KafkaSettings

from . import handlers
from .rows import utc
from .tables import (
    agent_statuses,
    calendars,
    inbox,
    metadata,
    sla_outcomes,
    survey_answers,
    surveys,
    ticket_events,
    ticket_facts,
)

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

    async def read_round(self) -> list[Any]:
        """Records up to each partition's high watermark (as seen by the fetches)."""
        records: list[Any] = []
        remaining = set(self.consumer.assignment())
        idle = 0
        while remaining and idle < 10:
            batch = await self.consumer.getmany(*remaining, timeout_ms=100)
            got = sum(len(v) for v in batch.values())
            idle = 0 if got else idle + 1
            for messages in batch.values():
                records.extend(messages)
            for tp in list(remaining):
                highwater = self.consumer.highwater(tp)
                if highwater is not None and await self.consumer.position(tp) >= highwater:
                    remaining.discard(tp)
        return records

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


async def rebuild(live: AsyncEngine, kafka: KafkaSettings, consumer_name: str,
                  progress: Callable[[int], None] | None = None) -> RebuildReport:
    """Replay the topics into scratch tables and switch the live projections over."""
    with tempfile.TemporaryDirectory(prefix="metrics-rebuild-") as tmp:
        scratch = create_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'rebuild.db'}")
        replay = TopicReplay(kafka, topics.ALL)
        try:
            async with scratch.begin() as conn:
                await conn.run_sync(metadata.create_all)
            apply = transactional_handler(scratch, consumer_name, handlers.handle)
            await replay.start()
            seen = bad = 0
            for attempt in range(1, MAX_SWITCH_ATTEMPTS + 1):
                while records := await replay.read_round():
                    for record in records:
                        try:
                            envelope = decode(record.value)
                        except Exception:  # noqa: BLE001 - poison records are the DLQ's business
                            bad += 1
                            continue
                        await apply(envelope)
                        seen += 1
                    if progress is not None:
                        progress(seen)
                if await _switch(live, scratch, consumer_name):
                    async with scratch.connect() as conn:
                        tickets = await conn.scalar(sa.select(sa.func.count()).select_from(ticket_facts))
                    return RebuildReport(seen, bad, int(tickets or 0), attempt)
            raise RuntimeError("the live consumer kept ahead of the rebuild; try again")
        finally:
            await replay.stop()
            await scratch.dispose()


def _aware(row: Any) -> dict[str, Any]:
    # SQLite hands back naive datetimes (UTC); PostgreSQL's timestamptz wants them aware.
    return {k: utc(v) if isinstance(v, datetime) else v for k, v in row.items()}


async def _switch(live: AsyncEngine, scratch: AsyncEngine, consumer_name: str) -> bool:
    """Replace the live projections with the scratch ones, unless live has seen more events."""
    async with scratch.connect() as src:
        replayed = set((await src.execute(sa.select(inbox.c.event_id)
                                          .where(inbox.c.consumer == consumer_name))).scalars())
        async with live.begin() as dst:
            if dst.dialect.name == "postgresql":
                await dst.execute(sa.text(f"LOCK TABLE {inbox.name} IN EXCLUSIVE MODE"))
            handled = set((await dst.execute(sa.select(inbox.c.event_id)
                                              .where(inbox.c.consumer == consumer_name))).scalars())
            if not handled <= replayed:
                return False
            for table in PROJECTIONS:
                await dst.execute(table.delete())
            await dst.execute(inbox.delete().where(inbox.c.consumer == consumer_name))
            for table in (*PROJECTIONS, inbox):
                result = await src.stream(sa.select(table))
                async for rows in result.mappings().partitions(CHUNK):
                    await dst.execute(table.insert(), [_aware(r) for r in rows])
    return True
