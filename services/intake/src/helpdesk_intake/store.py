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
from helpdesk_runtime.upsert import upsert

from .state import TicketState, fold
from .tables import ticket_numbers, tickets

NUMBER_OFFSET = 1000
_state_json = TypeAdapter(TicketState)


def state_document(state: TicketState) -> dict[str, Any]:
    """The state as JSON-ready data (what GET /v1/tickets/{id} serves)."""
    return _state_json.dump_python(state, mode="json")


async def load(conn: AsyncConnection, ticket_id: UUID) -> TicketState | None:
    """The ticket's current state, folded from its event stream (None if it does not exist)."""
    envelopes = await eventstore.read_stream(conn, ticket_id)
    return fold(env.data for env in envelopes)


async def next_number(conn: AsyncConnection, ticket_id: UUID) -> str:
    """Allocate the human number of a new ticket (HD-1001, HD-1002, ...)."""
    n = (await conn.execute(
        sa.insert(ticket_numbers).values(ticket_id=ticket_id).returning(ticket_numbers.c.n)
    )).scalar_one()
    return f"HD-{NUMBER_OFFSET + n}"


async def save(
    conn: AsyncConnection, state: TicketState, expected_version: int, envelopes: Sequence[Envelope]
) -> None:
    """Append the events (optimistic check), queue them for Kafka, update the read model."""
    await eventstore.append(conn, state.id, expected_version, envelopes)
    await add_to_outbox(conn, envelopes)
    values = {
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
        "document": state_document(state),
    }
    await conn.execute(upsert(conn, tickets, ["id"], values))
