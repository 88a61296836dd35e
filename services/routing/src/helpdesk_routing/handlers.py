"""Events in (runs inside the inbox transaction): route new tickets, follow them, escalate on breach."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from helpdesk_events.envelope import Envelope
from helpdesk_events.sla import SlaBreached
from helpdesk_events.tickets import TicketCreated, TicketEscalated, TicketEvent

from . import store
from .domain.decide import decide_after_manual_escalation, decide_escalation
from .domain.model import TicketView
from .domain.observe import facts_of, may_change, observe
from .service import drain, publish, route_new, teams_of_agent


async def handle(conn: AsyncConnection, envelope: Envelope) -> None:
    """Apply one event from helpdesk.tickets or helpdesk.sla."""
    event = envelope.data
    if isinstance(event, TicketCreated):
        await _on_created(conn, envelope, event)
    elif isinstance(event, SlaBreached):
        await _on_breach(conn, envelope, event)
    elif isinstance(event, TicketEvent):
        await _on_ticket_event(conn, envelope, event)


async def _on_created(conn: AsyncConnection, envelope: Envelope, event: TicketCreated) -> None:
    await store.lock_decisions(conn)
    now = event.occurred_at
    state = await route_new(conn, await store.load_state(conn, registry_once=True),
                            TicketView(facts=facts_of(event)), now, causation=str(envelope.id))
    if state is None:  # routing knew the ticket: a second creation changes nothing
        return
    # A breach that overtook the creation (another topic, no ordering between them).
    early = await store.early_escalations_of(conn, event.ticket_id)
    for row in early:
        current = await store.get_ticket(conn, event.ticket_id)
        if current is not None:
            state = await publish(conn, state, decide_escalation(
                state, current, trigger="sla_breach", reason=row.reason, now=now,
            ), now, causation=str(row.event_id))
    if early:
        await store.forget_early_escalations(conn, event.ticket_id)


async def _on_breach(conn: AsyncConnection, envelope: Envelope, event: SlaBreached) -> None:
    if not event.escalate:
        return
    await store.lock_decisions(conn)
    reason = f"SLA {event.target.value} target breached (late by {event.late_by_seconds} s)"
    view = await store.get_ticket(conn, event.ticket_id)
    if view is None:
        await store.add_early_escalation(conn, envelope.id, event.ticket_id, reason)
        return
    now = envelope.time
    state = await store.load_state(conn, registry_once=True)
    old_agent = view.agent
    state = await publish(conn, state, decide_escalation(
        state, view, trigger="sla_breach", reason=reason, now=now,
    ), now, causation=str(envelope.id))
    await drain(conn, state, teams_of_agent(state, old_agent), now, causation=str(envelope.id))


async def _on_ticket_event(conn: AsyncConnection, envelope: Envelope, event: TicketEvent) -> None:
    if not may_change(event):  # e.g. intake echoing routing's own assignment: nothing to read
        return
    await store.lock_decisions(conn)
    view = await store.get_ticket(conn, event.ticket_id)
    if view is None:
        return
    now = event.occurred_at
    after = observe(view, event, now)
    if after == view:
        return
    await store.save_ticket(conn, after)
    state = await store.load_state(conn, registry_once=True)
    causation = str(envelope.id)
    if isinstance(event, TicketEscalated) and event.routing_decision_id is None:
        state = await publish(conn, state, decide_after_manual_escalation(state, after, now), now,
                              causation=causation)
    touched = [*teams_of_agent(state, view.agent), view.team, after.team]
    await drain(conn, state, touched, now, causation=causation)
