"""Events in: ticket events move the clocks (runs inside the inbox transaction)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from helpdesk_events.envelope import Envelope
from helpdesk_events.tickets import PriorityChanged, TicketCategorized, TicketCreated, TicketEvent
from helpdesk_runtime.txmemo import kept_for_transaction, once_per_transaction
from sqlalchemy.ext.asyncio import AsyncConnection

from .domain.decide import apply_event
from .domain.policies import SlaConfig
from .domain.state import TicketSla, timers_for
from .scheduler import Scheduler
from .store import (
    append_history,
    apply_decision,
    load_config,
    load_history,
    load_state,
    record_and_lock,
    start_ticket,
)

Handler = Callable[[AsyncConnection, Envelope], Awaitable[None]]

#: txmemo keys: the configuration, and the states this transaction holds locked.
_CONFIG = "helpdesk_sla.config"
_HELD = "helpdesk_sla.held_states"


def make_handler(scheduler: Scheduler) -> Handler:
    """The ticket-event handler; it wakes `scheduler` when it sets an earlier timer."""

    async def handle(conn: AsyncConnection, envelope: Envelope) -> None:
        """Record the event for replays, apply it to the ticket's clocks, persist the decision."""
        event = envelope.data
        if not isinstance(event, TicketEvent):
            return
        causation = str(envelope.id)
        config: SlaConfig = await once_per_transaction(conn, _CONFIG, lambda: load_config(conn))
        # A consumer batch is one transaction: a ticket's state read (locked) or written by an
        # earlier event of the batch is still this transaction's, as it was left.
        held: dict[uuid.UUID, TicketSla] = kept_for_transaction(conn, _HELD, dict)
        state = held.get(event.ticket_id)
        # The history row still to write (with the decision, in one statement where it can).
        record: Envelope | None = None
        if state is not None:
            record = envelope
        elif isinstance(event, TicketCreated) and conn.dialect.name == "postgresql":
            # A new ticket has no state to read: its first decision goes in with the history
            # row in one statement, unless the ticket turns out to have a state already.
            decision = apply_event(None, event, config)
            if await start_ticket(conn, envelope, decision, at=event.occurred_at,
                                  causation=causation):
                assert decision.state is not None
                held[event.ticket_id] = decision.state
                if decision.timers:
                    scheduler.wake(min(t.due_at for t in decision.timers))
                return
            state = await load_state(conn, event.ticket_id, lock=True)  # history is in
        else:
            state = await record_and_lock(conn, envelope)
        history = ()
        if isinstance(event, (PriorityChanged, TicketCategorized)):
            if record is not None:  # the history replayed includes this event
                await append_history(conn, record)
                record = None
            history = tuple((await load_history(conn, [event.ticket_id]))[event.ticket_id])
        decision = apply_event(state, event, config, history=history)
        if decision.state is None and not decision.events:
            if record is not None:
                await append_history(conn, record)
            if state is not None:
                held[event.ticket_id] = state
            return
        await apply_decision(
            conn,
            event.ticket_id,
            decision,
            at=event.occurred_at,
            causation=causation,
            stored={timer.key for timer in timers_for(state)},
            record=record,
        )
        if decision.state is not None:
            held[event.ticket_id] = decision.state
        if decision.timers:
            scheduler.wake(min(t.due_at for t in decision.timers))

    return handle
