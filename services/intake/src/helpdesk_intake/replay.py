"""Re-publish the whole event store, in global order, for a broker that lost its data.

The events go through the outbox like any new event, so the relay's ordering and
acknowledgement rules stay the only way anything reaches Kafka. Each batch is one
transaction. Consumers see duplicates of what they already had and drop them by event id.

Rows still waiting in the outbox when the replay starts (written while the broker was
away) are copies of store events: the first batch takes them out, and they are queued
again in their place in the store's order. Left in front, a ticket's newer event would reach
a consumer before the replayed copies of its older ones (a resolution before the creation).
Run it while clients are quiet if you can: an event written during the replay is
published when it commits, possibly before the replayed copies of its ticket's older events.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from helpdesk_events import eventstore

from . import store
from .tables import events, outbox

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReplayStats:
    """How many events were queued, and the global positions they span."""

    queued: int = 0
    first_position: int | None = None
    last_position: int | None = None


async def queue_replay(
    engine: AsyncEngine, *, batch_size: int = 500, after_position: int = 0
) -> ReplayStats:
    """Copy every event after `after_position` into the outbox, `batch_size` per transaction."""
    stats = ReplayStats()
    position = after_position
    while True:
        async with engine.begin() as conn:
            if position == after_position:
                await conn.execute(sa.delete(outbox).where(outbox.c.event_id.in_(
                    sa.select(events.c.event_id).where(events.c.position > after_position))))
            batch = await eventstore.read_all(conn, position, batch_size)
            if batch:
                await store.queue_for_publishing(conn, [envelope for _, envelope in batch])
        if not batch:
            break
        position = batch[-1][0]
        stats = ReplayStats(
            queued=stats.queued + len(batch),
            first_position=stats.first_position or batch[0][0],
            last_position=position,
        )
        log.info("replay queued %d events up to position %d", stats.queued, position)
    return stats
