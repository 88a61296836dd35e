"""Events in: fold each event into metrics' projections (runs inside the inbox transaction)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from helpdesk_events.envelope import Envelope
from helpdesk_events.tickets import TicketCreated
from helpdesk_runtime.upsert import insert_ignore

from .tables import ticket_facts


async def handle(conn: AsyncConnection, envelope: Envelope) -> None:
    """Apply one event from any topic; events metrics does not use yet are recorded and skipped."""
    event = envelope.data
    if isinstance(event, TicketCreated):
        await conn.execute(
            insert_ignore(conn, ticket_facts, ["ticket_id"]).values(
                ticket_id=event.ticket_id,
                number=event.number,
                created_at=event.occurred_at,
                channel=event.channel.value,
                type=event.type.value,
                category=event.category,
                priority=event.priority.value,
            )
        )
