"""Intake's persistence: load a ticket by folding its stream; save events, outbox and read model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncConnection

from helpdesk_events import eventstore
from helpdesk_events.envelope import Envelope
from helpdesk_events.outbox import add_to_outbox
from helpdesk_events.tickets import TicketCreated, TicketUpdated
from helpdesk_runtime.upsert import upsert

from .state import TicketState, fold
from .tables import ticket_numbers, ticket_tags, tickets

NUMBER_OFFSET = 1000
_state_json = TypeAdapter(TicketState)


def state_document(state: TicketState) -> dict[str, Any]:
    """The state as JSON-ready data (what GET /v1/tickets/{id} serves)."""
    return _state_json.dump_python(state, mode="json")


async def load(conn: AsyncConnection, ticket_id: UUID) -> TicketState | None:
    """The ticket's current state, folded from its event stream (None if it does not exist)."""
    envelopes = await eventstore.read_stream(conn, ticket_id)
    return fold(env.data for env in envelopes)


async def exists(conn: AsyncConnection, ticket_id: UUID) -> bool:
    """True if the ticket exists (its read-model row is written with its first event)."""
    found = await conn.scalar(sa.select(tickets.c.id).where(tickets.c.id == ticket_id))
    return found is not None


async def lock(conn: AsyncConnection, *ticket_ids: UUID) -> None:
    """Queue behind other writers of these tickets until this transaction ends (PostgreSQL).

    Writers of one ticket then take turns instead of racing to the event store's optimistic
    check (which stays the safety net). Rows are locked in id order, so two transactions
    locking the same tickets never deadlock. SQLite has a single writer: nothing to lock.
    """
    if conn.dialect.name != "postgresql":
        return
    await conn.execute(
        sa.select(tickets.c.id).where(tickets.c.id.in_(ticket_ids))
        .order_by(tickets.c.id).with_for_update()
    )


async def next_number(conn: AsyncConnection, ticket_id: UUID) -> str:
    """Allocate the human number of a new ticket (HD-1001, HD-1002, ...)."""
    n = (await conn.execute(
        sa.insert(ticket_numbers).values(ticket_id=ticket_id).returning(ticket_numbers.c.n)
    )).scalar_one()
    return f"HD-{NUMBER_OFFSET + n}"


async def queue_for_publishing(conn: AsyncConnection, envelopes: Sequence[Envelope]) -> None:
    """Add `envelopes` to the outbox (the runtime wakes the relay once the transaction ends)."""
    await add_to_outbox(conn, envelopes)


async def save(
    conn: AsyncConnection, state: TicketState, expected_version: int, envelopes: Sequence[Envelope]
) -> None:
    """Append the events (optimistic check), queue them for Kafka, update the read model."""
    await eventstore.append(conn, state.id, expected_version, envelopes)
    await queue_for_publishing(conn, envelopes)
    await conn.execute(upsert(conn, tickets, ["id"], _read_model_row(state)))
    if any(_touches_tags(envelope) for envelope in envelopes):
        await conn.execute(sa.delete(ticket_tags).where(ticket_tags.c.ticket_id == state.id))
        if state.tags:
            await conn.execute(
                sa.insert(ticket_tags), [{"ticket_id": state.id, "tag": tag} for tag in state.tags]
            )


def _touches_tags(envelope: Envelope) -> bool:
    event = envelope.data
    if isinstance(event, TicketCreated):
        return True
    return isinstance(event, TicketUpdated) and any(c.field == "tags" for c in event.changes)


def _read_model_row(state: TicketState) -> dict[str, Any]:
    return {
        "id": state.id,
        "number": state.number,
        "version": state.version,
        "status": state.status.value,
        "priority": state.priority.value,
        "channel": state.channel.value,
        "type": state.type.value,
        "category": state.category,
        "team": state.team,
        "agent": state.agent,
        "tier": int(state.tier) if state.tier is not None else None,
        "requester_id": state.requester.id,
        "requester_org": state.requester.org,
        "subject": state.subject,
        "tags": list(state.tags),
        "created_at": state.created_at,
        "updated_at": state.updated_at,
        "resolved_at": state.resolved_at,
        "document": state_document(state),
    }
