"""Events in: the routing service's view of tickets (runs inside the inbox transaction)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from helpdesk_events.envelope import Envelope
from helpdesk_events.tickets import TicketCreated
from helpdesk_runtime.upsert import insert_ignore

from .tables import known_tickets


async def handle(conn: AsyncConnection, envelope: Envelope) -> None:
    """Record tickets as they are created."""
    event = envelope.data
    if isinstance(event, TicketCreated):
        await conn.execute(
            insert_ignore(conn, known_tickets, ["ticket_id"]).values(
                ticket_id=event.ticket_id, number=event.number,
                priority=event.priority.value, created_at=event.occurred_at,
            )
        )
