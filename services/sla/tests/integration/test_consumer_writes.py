"""The consumer's combined writes (one statement per event on PostgreSQL) keep every effect."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from helpdesk_events.envelope import new_envelope
from helpdesk_events.inbox import transactional_handler
from helpdesk_events.sla import ClockStarted, SlaBreached
from helpdesk_events.tickets import TicketEvent
from helpdesk_sla.handlers import make_handler
from helpdesk_sla.store import load_state
from helpdesk_sla.tables import breaches, sla_timers, ticket_history

from ..unit.builders import T0, Ticket
from .conftest import Sla


async def batch(sla: Sla, *events: TicketEvent) -> None:
    """Deliver `events` as one consumer batch (one transaction: no timer fires in between)."""
    handle = transactional_handler(sla.runtime.engine, "sla", make_handler(sla.app.state.scheduler))
    await handle.batch([
        new_envelope(e, source="intake", subject=str(e.ticket_id), time=e.occurred_at)
        for e in events
    ])


async def test_a_late_resolution_stores_the_breach_drops_the_timers_and_publishes_it(
    sla: Sla,
) -> None:
    ticket = Ticket(priority="P3")
    # A day after creation: every P3 target but resolution is overdue, no timer fired yet.
    await batch(sla, ticket.created(0), ticket.resolved(86_400))
    published = [e.data for e in await sla.published(ticket.id)]
    breached = {e.target.value for e in published if isinstance(e, SlaBreached)}
    assert breached == {"first_response"}
    async with sla.runtime.engine.connect() as conn:
        stored = (await conn.execute(
            sa.select(breaches.c.target, breaches.c.escalate)
            .where(breaches.c.ticket_id == ticket.id)
        )).all()
        timers = (await conn.execute(
            sa.select(sla_timers.c.key).where(sla_timers.c.ticket_id == ticket.id)
        )).all()
        history = (await conn.execute(
            sa.select(sa.func.count()).where(ticket_history.c.ticket_id == ticket.id)
        )).scalar_one()
        state = await load_state(conn, ticket.id)
    assert [tuple(row) for row in stored] == [("first_response", False)]
    assert timers == [] and history == 2
    assert state is not None and all(not c.active for c in state.clocks.values())


async def test_a_second_creation_of_a_ticket_keeps_its_clocks_and_starts_none(sla: Sla) -> None:
    ticket = Ticket(priority="P2")
    # Created now, so no target is due while the test runs: the app's scheduler would fire a
    # breach between the two reads of the state (T0 is in the past).
    now = (datetime.now(UTC) - T0).total_seconds()
    await batch(sla, ticket.created(now))
    async with sla.runtime.engine.connect() as conn:
        before = await load_state(conn, ticket.id)
    await batch(sla, ticket.created(now + 30))  # another event id: it reaches the handler
    async with sla.runtime.engine.connect() as conn:
        after = await load_state(conn, ticket.id)
        history = (await conn.execute(
            sa.select(sa.func.count()).where(ticket_history.c.ticket_id == ticket.id)
        )).scalar_one()
    started = [e for e in await sla.published(ticket.id) if isinstance(e.data, ClockStarted)]
    assert after == before and len(started) == 2 and history == 2
