"""The timer scheduler: sleeps until the earliest due timer, fires due timers exactly once.

Exactly once: a timer row is claimed (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the single
writer on SQLite), its idempotency key inserted into `sla_firings`, the clock updated and the
event put in the outbox, all in one transaction. Never early: only rows with `due_at <= now`
are fetched. After downtime every overdue row is due at once; `late_by` is measured from
its due time to the moment it fires.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from helpdesk_events.envelope import Event
from helpdesk_runtime.upsert import insert_ignore
from sqlalchemy.ext.asyncio import AsyncEngine

from .domain.decide import fire_timer
from .domain.state import Decision, Timer, timers_for
from .store import apply_decision, as_utc, load_config, load_state, timer_of
from .tables import sla_firings, sla_timers

if TYPE_CHECKING:
    from helpdesk_runtime.runtime import ServiceRuntime

log = logging.getLogger("helpdesk.sla.scheduler")

#: A wake for an instant already past may race the writer's commit: look again this long.
_GRACE = timedelta(seconds=1)


class Scheduler:
    """Fires due warning and breach timers; `wake(due_at)` when a writer adds an earlier one."""

    def __init__(self, *, batch_size: int = 200, max_sleep: float = 30.0) -> None:
        self.batch_size = batch_size
        #: An upper bound on sleeping, for timers written by another instance.
        self.max_sleep = max_sleep
        self._event = asyncio.Event()
        self._hint: datetime | None = None

    def wake(self, due_at: datetime | None = None) -> None:
        """A timer due at `due_at` was (or is about to be) committed."""
        if due_at is not None and (self._hint is None or due_at < self._hint):
            self._hint = due_at
        self._event.set()

    async def run(self, runtime: ServiceRuntime) -> None:
        """Until cancelled: fire what is due, then sleep until the next due time or a wake."""
        while True:
            self._event.clear()
            fired = await self.fire_due(runtime.engine)
            if fired:
                runtime.wake_relay()
            now = datetime.now(UTC)
            earliest = await self.earliest_due(runtime.reader)
            wake_at = now + timedelta(seconds=self.max_sleep)
            if earliest is not None:
                wake_at = min(wake_at, earliest)
            if self._hint is not None:
                if self._hint > now:
                    wake_at = min(wake_at, self._hint)
                elif now - self._hint < _GRACE:
                    wake_at = min(wake_at, now + timedelta(milliseconds=100))
                else:
                    self._hint = None
            delay = max((wake_at - datetime.now(UTC)).total_seconds(), 0.0)
            if delay > 0:
                try:
                    await asyncio.wait_for(self._event.wait(), delay)
                except TimeoutError:
                    pass

    async def earliest_due(self, engine: AsyncEngine) -> datetime | None:
        """The earliest stored due time (the index on `due_at` makes this cheap)."""
        async with engine.connect() as conn:
            value = await conn.scalar(sa.select(sa.func.min(sla_timers.c.due_at)))
        return None if value is None else as_utc(value)

    async def fire_due(self, engine: AsyncEngine) -> int:
        """Fire every timer due now, in batches of one transaction each; returns how many fired."""
        total = 0
        while True:
            fired, fetched = await self._fire_batch(engine)
            total += fired
            if fetched < self.batch_size:
                return total

    async def _fire_batch(self, engine: AsyncEngine) -> tuple[int, int]:
        now = datetime.now(UTC)
        fired = 0
        async with engine.begin() as conn:
            query = (
                sa.select(sla_timers)
                .where(sla_timers.c.due_at <= now)
                .order_by(sla_timers.c.due_at)
                .limit(self.batch_size)
            )
            if conn.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = (await conn.execute(query)).all()
            if not rows:
                return 0, 0
            timers = [timer_of(row) for row in rows]
            keys = [t.key for t in timers]
            await conn.execute(sa.delete(sla_timers).where(sla_timers.c.key.in_(keys)))
            done = set(
                await conn.scalars(sa.select(sla_firings.c.key).where(sla_firings.c.key.in_(keys)))
            )
            fresh = [t for t in timers if t.key not in done]
            if fresh:
                await conn.execute(
                    insert_ignore(conn, sla_firings, ["key"]),
                    [{"key": t.key, "fired_at": now} for t in fresh],
                )
            by_ticket: dict[uuid.UUID, list[Timer]] = {}
            for timer in fresh:  # due order within each ticket: a warning before its breach
                by_ticket.setdefault(timer.ticket_id, []).append(timer)
            config = await load_config(conn)
            for ticket_id, ticket_timers in by_ticket.items():
                state = await load_state(conn, ticket_id, lock=True)
                if state is None:
                    continue
                events: list[Event] = []
                for timer in ticket_timers:
                    decision = fire_timer(state, timer, config, now)
                    state = decision.state or state
                    events.extend(decision.events)
                await apply_decision(
                    conn, ticket_id, Decision(state, events, timers_for(state)), at=now
                )
                fired += len(events)
        return fired, len(rows)
