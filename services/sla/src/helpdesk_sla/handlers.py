"""Events in: ticket events move the clocks (runs inside the inbox transaction)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from helpdesk_events.envelope import Envelope
from helpdesk_events.tickets import PriorityChanged, TicketCategorized, TicketEvent
from sqlalchemy.ext.asyncio import AsyncConnection

from .domain.decide import apply_event
from .scheduler import Scheduler
from .store import append_history, apply_decision, load_config, load_history, load_state

Handler = Callable[[AsyncConnection, Envelope], Awaitable[None]]


def make_handler(scheduler: Scheduler) -> Handler:
    """The ticket-event handler; it wakes `scheduler` when it sets an earlier timer."""

    async def handle(conn: AsyncConnection, envelope: Envelope) -> None:
        """Record the event for replays, apply it to the ticket's clocks, persist the decision."""
        event = envelope.data
        if not isinstance(event, TicketEvent):
            return
        await append_history(conn, envelope)
        state = await load_state(conn, event.ticket_id, lock=True)
        config = await load_config(conn)
        history = ()
        if isinstance(event, (PriorityChanged, TicketCategorized)):
            history = tuple((await load_history(conn, [event.ticket_id]))[event.ticket_id])
        decision = apply_event(state, event, config, history=history)
        if decision.state is None and not decision.events:
            return
        await apply_decision(
            conn, event.ticket_id, decision, at=event.occurred_at, causation=str(envelope.id)
        )
        if decision.timers:
            scheduler.wake(min(t.due_at for t in decision.timers))

    return handle
