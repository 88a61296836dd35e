"""Idempotent consumers: record each handled event id in the transaction of its effects."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from helpdesk_events.envelope import Envelope
from helpdesk_events.tables import INBOX_TABLE as T

Handler = Callable[[AsyncConnection, Envelope], Awaitable[None]]


async def record_once(conn: AsyncConnection, consumer: str, event_id: uuid.UUID) -> bool:
    """Record that `consumer` handled `event_id`; True the first time, False for a redelivery."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    # On PostgreSQL a concurrent insert of the same id waits for the other transaction and
    # then does nothing: two instances handling one event after a rebalance count it once.
    statement = insert(T).values(consumer=consumer, event_id=event_id).on_conflict_do_nothing()
    result = await conn.execute(statement)
    return result.rowcount == 1


def transactional_handler(
    engine: AsyncEngine, consumer_name: str, handler: Handler
) -> Callable[[Envelope], Awaitable[None]]:
    """Wrap `handler(conn, envelope)`: once per event id, in one transaction with the inbox row."""

    async def handle(envelope: Envelope) -> None:
        async with engine.begin() as conn:
            if await record_once(conn, consumer_name, envelope.id):
                await handler(conn, envelope)

    handle.__name__ = f"transactional_{getattr(handler, '__name__', 'handler')}"
    return handle
