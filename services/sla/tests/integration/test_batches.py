"""A consumer batch (one transaction, many events) decides exactly as one event per transaction."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from helpdesk_events.envelope import new_envelope
from helpdesk_events.inbox import transactional_handler
from helpdesk_events.tickets import TicketEvent
from helpdesk_sla.handlers import make_handler
from helpdesk_sla.store import load_state
from helpdesk_sla.tables import sla_timers

from ..unit import builders
from ..unit.builders import REQUESTER, Ticket
from .conftest import Sla, running_sla, utcnow


def story(ticket: Ticket) -> list[TicketEvent]:
    """Events that read and rewrite the same ticket's clocks several times in a row."""
    return [
        ticket.created(0),
        ticket.status(60, "new", "pending"),
        ticket.status(120, "pending", "open"),
        ticket.reply(180),
        ticket.reply(240, by=REQUESTER),
        ticket.priority_changed(300, "P1"),
        ticket.resolved(360),
        ticket.reopened(420),
    ]


async def outcome(sla: Sla, ticket_id: uuid.UUID) -> tuple[object, list[tuple[str, object]]]:
    """The ticket's stored state (without its id) and timers (key without the ticket id)."""
    async with sla.runtime.engine.connect() as conn:
        state = await load_state(conn, ticket_id)
        rows = (
            await conn.execute(
                sa.select(sla_timers.c.key, sla_timers.c.due_at)
                .where(sla_timers.c.ticket_id == ticket_id)
                .order_by(sla_timers.c.key)
            )
        ).all()
    assert state is not None
    dumped = state.model_dump(exclude={"ticket_id"})
    return dumped, [(row.key.split(":", 1)[1], row.due_at) for row in rows]


async def test_a_batch_of_one_tickets_events_ends_as_one_transaction_per_event(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tomorrow: no timer of the story comes due (and fires) while it is fed.
    monkeypatch.setattr(builders, "T0", utcnow() + timedelta(days=1))
    async with running_sla(db_url) as sla:
        single, batched = Ticket(priority="P3"), Ticket(priority="P3")
        await sla.feed(*story(single))
        handle = transactional_handler(
            sla.runtime.engine, "sla", make_handler(sla.app.state.scheduler)
        )
        await handle.batch([
            new_envelope(e, source="intake", subject=str(e.ticket_id), time=e.occurred_at)
            for e in story(batched)
        ])
        assert await outcome(sla, batched.id) == await outcome(sla, single.id)
        published = [type(e.data).__name__ for e in await sla.published(batched.id)]
        assert published == [type(e.data).__name__ for e in await sla.published(single.id)]
        assert published  # the story does move clocks
