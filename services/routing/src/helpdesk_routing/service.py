"""Routing's use cases at the edge: load state, decide, record decisions and publish them."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from helpdesk_events.envelope import Event, new_envelope
from helpdesk_events.outbox import add_to_outbox
from helpdesk_events.routing import EscalationDecided, RoutingDecided

from . import store
from .domain.decide import RoutingState, decide_drain, decide_route, evolve, evolve_workload
from .domain.model import TicketView, Workload
from .tables import decisions

SOURCE = "routing"
#: Built once, values as parameters (a statement per call costs more CPU than the insert).
_RECORD_DECISION = sa.insert(decisions)


async def publish(
    conn: AsyncConnection,
    state: RoutingState,
    events: Sequence[Event],
    now: datetime,
    *,
    causation: str | None = None,
) -> RoutingState:
    """Record decisions (view, workload, decision log) and put them in the outbox, in order."""
    workload = state.workload
    decided = []
    for event in events:
        if not isinstance(event, (RoutingDecided, EscalationDecided)):
            raise TypeError(f"routing publishes only its decisions, not {type(event).__name__}")
        view = await store.get_ticket(conn, event.ticket_id)
        if view is None:
            continue
        after = evolve(view, event, now)
        workload = evolve_workload(workload, view, after)
        await store.save_ticket(conn, after)
        decided.append(event)
    return await _record(conn, state, workload, decided, causation)


async def route_new(
    conn: AsyncConnection, state: RoutingState, ticket: TicketView, now: datetime, *, causation: str | None = None,
) -> RoutingState | None:
    """Route a ticket routing does not know yet and publish the decision; None if it knows the ticket.

    The ticket is stored once, with its first decision applied (one INSERT, no update after).
    """
    events = decide_route(state, ticket, now)
    workload, routed = state.workload, ticket
    for event in events:
        after = evolve(routed, event, now)
        workload = evolve_workload(workload, routed, after)
        routed = after
    if not await store.add_ticket(conn, routed):
        return None
    return await _record(conn, state, workload, events, causation)


async def _record(
    conn: AsyncConnection, state: RoutingState, workload: Workload, decided: Sequence[Event],
    causation: str | None,
) -> RoutingState:
    """Log the decisions, move the cursors, queue the envelopes: the state after them."""
    envelopes, rows = [], []
    for event in decided:
        ticket_id = event.ticket_id  # type: ignore[attr-defined]
        envelope = new_envelope(
            event, source=SOURCE, subject=str(ticket_id), time=datetime.now(timezone.utc),
            causationid=causation, correlationid=str(ticket_id),
        )
        envelopes.append(envelope)
        rows.append({
            "event_id": envelope.id, "ticket_id": ticket_id, "type": envelope.type,
            "data": event.model_dump(mode="json"), "decided_at": envelope.time,
        })
    if rows:
        await conn.execute(_RECORD_DECISION, rows)  # one statement for all, in order
    await store.save_cursors(conn, state.workload, workload)
    if envelopes:
        await add_to_outbox(conn, envelopes)
    return dataclasses.replace(state, workload=workload)


async def drain(
    conn: AsyncConnection, state: RoutingState, team_ids: Iterable[str | None], now: datetime,
    *, causation: str | None = None,
) -> RoutingState:
    """Give queued tickets of these teams to agents who can take them, oldest first."""
    for team_id in dict.fromkeys(t for t in team_ids if t is not None):
        waiting = await store.queue(conn, team_id)
        if waiting:
            state = await publish(conn, state, decide_drain(state, team_id, waiting, now), now,
                                  causation=causation)
    return state


def teams_of_agent(state: RoutingState, agent_id: str | None) -> tuple[str, ...]:
    """The teams an agent works for (none for an unknown agent)."""
    agent = state.agents.get(agent_id) if agent_id is not None else None
    return agent.teams if agent is not None else ()
