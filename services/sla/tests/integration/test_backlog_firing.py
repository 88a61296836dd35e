"""Backlogs larger than a batch fire each due timer exactly once, in due order per ticket."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from helpdesk_events.codec import decode
from helpdesk_events.sla import SlaBreached, SlaWarning, Target
from helpdesk_events.tables import OUTBOX_TABLE
from helpdesk_events.tickets import Actor, Requester, TicketCreated
from helpdesk_runtime.db import create_engine
from helpdesk_runtime.migrations import upgrade
from helpdesk_sla.app import MIGRATIONS
from helpdesk_sla.domain.decide import apply_event
from helpdesk_sla.domain.policies import SlaConfig
from helpdesk_sla.domain.state import Decision, TicketSla, TimerKind, timers_for
from helpdesk_sla.scheduler import Scheduler
from helpdesk_sla.store import apply_decisions, load_state, lock_states
from helpdesk_sla.tables import breaches, sla_firings, sla_timers
from sqlalchemy.ext.asyncio import AsyncEngine

TICKETS = 450  # more than two batches of 200


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """The sla schema without the app: no running scheduler fires behind the test's back."""
    engine = create_engine(db_url)
    await upgrade(engine, MIGRATIONS)
    try:
        yield engine
    finally:
        await engine.dispose()


def overdue_state(now: datetime) -> TicketSla:
    """A P3 ticket created 5 h ago: its first response warning (3 h) and breach (4 h) are due."""
    event = TicketCreated(
        ticket_id=uuid.uuid4(), occurred_at=now - timedelta(hours=5), number="HD-1",
        subject="Backlog", requester=Requester(id="u-1"), channel="email", type="incident",
        priority="P3", by=Actor(id="u-1", role="requester"),
    )
    state = apply_event(None, event, SlaConfig()).state
    assert state is not None
    return state


async def seed(engine: AsyncEngine, count: int) -> list[TicketSla]:
    """`count` overdue tickets, stored through the bulk write path (states and timers)."""
    now = datetime.now(UTC)
    states = [overdue_state(now) for _ in range(count)]
    async with engine.begin() as conn:
        await apply_decisions(
            conn, [(s.ticket_id, Decision(s, [], timers_for(s))) for s in states], at=now,
            stored={},
        )
    return states


async def test_a_backlog_larger_than_a_batch_fires_every_due_timer_once_in_due_order(
    engine: AsyncEngine,
) -> None:
    states = await seed(engine, TICKETS)
    scheduler = Scheduler(batch_size=200, claimers=2)
    assert await scheduler.fire_due(engine) == 2 * TICKETS
    assert await scheduler.fire_due(engine) == 0
    async with engine.connect() as conn:
        firings = await conn.scalar(sa.select(sa.func.count()).select_from(sla_firings))
        due_left = await conn.scalar(
            sa.select(sa.func.count()).select_from(sla_timers)
            .where(sla_timers.c.due_at <= datetime.now(UTC))
        )
        breach_rows = (await conn.execute(sa.select(breaches))).all()
        values = (
            await conn.scalars(sa.select(OUTBOX_TABLE.c.value).order_by(OUTBOX_TABLE.c.position))
        ).all()
        stored = await load_state(conn, states[0].ticket_id)
    assert firings == 2 * TICKETS and due_left == 0
    assert {row.ticket_id for row in breach_rows} == {s.ticket_id for s in states}
    assert all(row.target == Target.FIRST_RESPONSE.value for row in breach_rows)
    kinds: dict[str, list[type]] = {}
    for value in values:
        envelope = decode(value)
        kinds.setdefault(envelope.subject, []).append(type(envelope.data))
    assert len(kinds) == TICKETS
    assert all(found == [SlaWarning, SlaBreached] for found in kinds.values())
    assert stored is not None and stored.clocks[Target.FIRST_RESPONSE].breach_fired


async def test_fired_keys_never_fire_again_even_if_their_timer_rows_come_back(
    engine: AsyncEngine,
) -> None:
    states = await seed(engine, 3)
    assert await Scheduler().fire_due(engine) == 6
    async with engine.begin() as conn:  # e.g. a replay writing the same timers again
        await conn.execute(sa.insert(sla_timers), [
            {"key": t.key, "ticket_id": t.ticket_id, "target": t.target.value,
             "kind": t.kind.value, "generation": t.generation, "due_at": t.due_at}
            for s in states for t in timers_for(s) if t.target is Target.FIRST_RESPONSE
        ])
    assert await Scheduler().fire_due(engine) == 0
    async with engine.connect() as conn:
        assert await conn.scalar(
            sa.select(sa.func.count()).select_from(sla_timers)
            .where(sla_timers.c.due_at <= datetime.now(UTC))
        ) == 0


async def test_a_claimer_holding_only_a_later_timer_of_a_ticket_leaves_the_ticket_for_later(
    pg_url: str,
) -> None:
    engine = create_engine(pg_url)
    try:
        await upgrade(engine, MIGRATIONS)
        (state,) = await seed(engine, 1)
        warning, breach = (t for t in timers_for(state) if t.target is Target.FIRST_RESPONSE)
        assert (warning.kind, breach.kind) == (TimerKind.WARNING, TimerKind.BREACH)
        async with engine.begin() as conn:
            # The warning's row is another claimer's: the breach must wait until it fired.
            states, busy = await lock_states(conn, [state.ticket_id], claimed=[breach])
            assert states == {} and busy == {state.ticket_id}
        async with engine.begin() as conn:
            states, busy = await lock_states(conn, [state.ticket_id], claimed=[warning, breach])
            assert list(states) == [state.ticket_id] and busy == set()
    finally:
        await engine.dispose()
