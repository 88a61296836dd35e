"""Events in: decisions from routing become ticket events (filled in by the routing work)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from helpdesk_events.envelope import Envelope


async def handle(conn: AsyncConnection, envelope: Envelope) -> None:
    """Routing decisions are recorded in the inbox; applying them comes with the routing service."""
