"""The timer scheduler: sleeps until the earliest due timer, fires due timers exactly once.

Exactly once: a batch of timer rows is claimed (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the
single writer on SQLite), their tickets' states locked in one query, the idempotency keys
inserted into `sla_firings`, the clocks updated and the events put in the outbox, all in one
transaction per batch (one statement per table, whatever the batch size). A ticket whose
state another transaction holds is left for a later pass, never waited for, as is one with
an earlier timer another claimer holds (a ticket's timers fire in due order). Never early: only
rows with `due_at <= now` are fetched. Not ahead of the stream: nor past the event time up to
which the consumer has handled its partitions (`until`, from `runtime.handled_until()`): the
reply that stops a clock may still wait on the topic, behind a lagging consumer or after a
restart, and must be applied before the breach it prevents is decided. After downtime every
overdue row fires once the consumer has caught up; `late_by` is measured from its due time
to the moment it fires.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from helpdesk_events.envelope import Event
from helpdesk_runtime.collector import collector_paused
from helpdesk_runtime.upsert import insert_ignore
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from .domain.decide import fire_timer
from .domain.policies import SlaConfig
from .domain.state import Decision, Timer, timers_for
from .store import among, apply_decisions, as_utc, load_config, lock_states, timer_of
from .tables import sla_firings, sla_timers

if TYPE_CHECKING:
    from helpdesk_runtime.runtime import ServiceRuntime

log = logging.getLogger("helpdesk.sla.scheduler")

#: A wake for an instant already past may race the writer's commit: look again this long.
_GRACE = timedelta(seconds=1)
#: Seconds to wait before retrying timers of tickets another transaction holds.
_BUSY_RETRY = 0.02
#: How soon to look again at due timers held back because the consumer lags.
_LAG_RETRY = timedelta(milliseconds=50)


class Scheduler:
    """Fires due warning and breach timers; `wake(due_at)` when a writer adds an earlier one."""

    def __init__(self, *, batch_size: int = 200, max_sleep: float = 30.0, claimers: int = 1) -> None:
        self.batch_size = batch_size
        #: Claimers working a backlog side by side (PostgreSQL only; SQLite has one writer).
        self.claimers = max(claimers, 1)
        #: An upper bound on sleeping, for timers written by another instance.
        self.max_sleep = max_sleep
        self._event = asyncio.Event()
        self._hint: datetime | None = None
        #: When the sleeping loop looks at the table next anyway (None while it works).
        self._sleeping_until: datetime | None = None

    def wake(self, due_at: datetime | None = None) -> None:
        """A timer due at `due_at` was (or is about to be) committed."""
        if due_at is not None and (self._hint is None or due_at < self._hint):
            self._hint = due_at
        if due_at is not None and self._sleeping_until is not None and due_at > self._sleeping_until:
            # The loop wakes before it is due anyway (and knows the hint): waking it now for
            # each new clock (hours away, mostly) cost two queries per ticket event.
            return
        self._event.set()

    async def run(self, runtime: ServiceRuntime) -> None:
        """Until cancelled: fire what is due, then sleep until the next due time or a wake."""
        while True:
            self._event.clear()
            until = runtime.handled_until()
            await self.fire_due(runtime.engine, on_batch=runtime.wake_relay, until=until)
            now = datetime.now(UTC)
            earliest = await self.earliest_due(runtime.reader)
            wake_at = now + timedelta(seconds=self.max_sleep)
            if earliest is not None:
                wake_at = min(wake_at, earliest)
                if until is not None and earliest <= now:
                    # Held back by the consumer's lag: look again as soon as it has moved on.
                    wake_at = min(wake_at, now + _LAG_RETRY)
            if self._hint is not None:
                if self._hint > now:
                    wake_at = min(wake_at, self._hint)
                elif now - self._hint < _GRACE:
                    wake_at = min(wake_at, now + timedelta(milliseconds=100))
                else:
                    self._hint = None
            delay = max((wake_at - datetime.now(UTC)).total_seconds(), 0.0)
            if delay > 0:
                self._sleeping_until = wake_at
                try:
                    await asyncio.wait_for(self._event.wait(), delay)
                except TimeoutError:
                    pass
                finally:
                    self._sleeping_until = None

    async def earliest_due(self, engine: AsyncEngine) -> datetime | None:
        """The earliest stored due time (the index on `due_at` makes this cheap)."""
        async with engine.connect() as conn:
            value = await conn.scalar(sa.select(sa.func.min(sla_timers.c.due_at)))
        return None if value is None else as_utc(value)

    async def fire_due(
        self, engine: AsyncEngine, *, on_batch: Callable[[], None] | None = None,
        until: datetime | None = None,
    ) -> int:
        """Fire every timer due now, in batches of one transaction each; returns how many fired.

        A full batch is followed at once by the next; `on_batch` runs after each commit that
        fired something (the runtime wakes the outbox relay there). Policies and calendars are
        read once per claimer, not per batch or timer. On PostgreSQL a full batch (a backlog)
        starts up to `claimers - 1` more claimers on their own connections: while one builds
        its batch in Python the database executes another's statements, and `SKIP LOCKED`
        keeps their claims (timer rows and ticket states) apart.
        """
        helpers: list[asyncio.Task[int]] = []

        def backlog() -> None:
            if len(helpers) + 1 < self.claimers and engine.dialect.name == "postgresql":
                helpers.append(asyncio.create_task(self._claim_loop(engine, on_batch, until)))

        try:
            # A burst fires thousands of clocks in a few seconds, each allocating models and
            # rows that die with its batch: the cyclic collector rescanning them was ~12 us of
            # the ~125 us a clock costs. Held off for the wake: reference counting still frees
            # what dies, only cycles wait for the collector's return.
            with collector_paused():
                total = await self._claim_loop(engine, on_batch, until, backlog)
                for task in helpers:
                    total += await task
        except BaseException:
            for task in helpers:
                task.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            raise
        return total

    async def _claim_loop(
        self, engine: AsyncEngine, on_batch: Callable[[], None] | None,
        until: datetime | None, on_full: Callable[[], None] | None = None,
    ) -> int:
        """Claim and fire batches until one is not full; `on_full` runs after each full one."""
        total = 0
        config: SlaConfig | None = None
        # One pooled connection for the whole wake: no checkout and ping per batch.
        async with engine.connect() as conn:
            while True:
                fired, fetched, busy, config = await self._fire_batch(conn, config, until)
                total += fired
                if fired and on_batch is not None:
                    on_batch()
                if fetched >= self.batch_size and on_full is not None:
                    on_full()
                if busy:  # another writer holds some tickets: let it commit, then look again
                    await asyncio.sleep(_BUSY_RETRY)
                elif fetched < self.batch_size:
                    return total

    async def _fire_batch(
        self, conn: AsyncConnection, config: SlaConfig | None, until: datetime | None = None
    ) -> tuple[int, int, int, SlaConfig | None]:
        """One transaction: claim up to `batch_size` due timers, fire them, persist in bulk.

        Returns (events fired, timer rows fetched, tickets skipped as busy, config).
        """
        now = datetime.now(UTC)
        cutoff = now if until is None else min(now, until)
        async with conn.begin():
            query = (
                sa.select(sla_timers)
                .where(sla_timers.c.due_at <= cutoff)
                .order_by(sla_timers.c.due_at)
                .limit(self.batch_size)
            )
            if conn.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = (await conn.execute(query)).all()
            if not rows:
                return 0, 0, 0, config
            by_ticket: dict[uuid.UUID, list[Timer]] = {}
            for row in rows:  # due order within each ticket: a warning before its breach
                timer = timer_of(row)
                by_ticket.setdefault(timer.ticket_id, []).append(timer)
            held = [t for timers in by_ticket.values() for t in timers]
            states, busy = await lock_states(conn, list(by_ticket), claimed=held)
            for ticket_id in busy:  # their timer rows stay, unlocked at commit, for a later pass
                del by_ticket[ticket_id]
            keys = [t.key for timers in by_ticket.values() for t in timers]
            if not keys:
                return 0, len(rows), len(busy), config
            await conn.execute(sa.delete(sla_timers).where(among(conn, sla_timers.c.key, keys)))
            # The idempotency keys: only the ones this transaction inserted fire (one statement).
            fresh = set(
                await conn.scalars(
                    insert_ignore(conn, sla_firings, ["key"]).returning(sla_firings.c.key),
                    [{"key": key, "fired_at": now} for key in keys],
                )
            )
            if config is None:
                config = await load_config(conn)
            decisions: list[tuple[uuid.UUID, Decision]] = []
            # What each decided ticket has stored now: its state's timers less the claimed ones
            # (deleted above), so persisting needs not read them back.
            stored: dict[uuid.UUID, set[str]] = {}
            fired = 0
            for ticket_id, timers in by_ticket.items():
                state = states.get(ticket_id)
                pending = [t for t in timers if t.key in fresh]
                if state is None or not pending:
                    continue
                # Compared by what a key is made of: no key string built for the claimed ones.
                mine = {(t.target, t.kind, t.generation) for t in timers}
                stored[ticket_id] = {
                    t.key for t in timers_for(state) if (t.target, t.kind, t.generation) not in mine
                }
                events: list[Event] = []
                for timer in pending:
                    decision = fire_timer(state, timer, config, now)
                    state = decision.state or state
                    events.extend(decision.events)
                # The last decision's timers are those of the final state.
                decisions.append((ticket_id, Decision(state, events, decision.timers)))
                fired += len(events)
            await apply_decisions(conn, decisions, at=now, stored=stored)
        return fired, len(rows), len(busy), config
