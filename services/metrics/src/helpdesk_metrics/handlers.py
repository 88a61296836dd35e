"""Events in, live: carry out each event's writes (writes.py) in SQL.

Runs inside the inbox transaction (a redelivered event never reaches it). Every write is
keyed by the event or by its natural id, and rows of one topic never wait for another
topic's rows, so events of different topics may arrive in any order.
"""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from helpdesk_events.envelope import Envelope
from helpdesk_runtime.upsert import insert_ignore, upsert

from .facts import TicketFact, evolve, fold
from .rows import fact_from_row, fact_values, utc
from .tables import ticket_events, ticket_facts
from .writes import NEWER_BY, Mode, TicketChange, Write, writes_for


async def handle(conn: AsyncConnection, envelope: Envelope) -> None:
    """Apply one event from any topic; events metrics does not use are recorded and skipped."""
    writes, change = writes_for(envelope)
    latest = None
    if change is not None:
        latest = await conn.scalar(sa.select(sa.func.max(ticket_events.c.sequence))
                                   .where(ticket_events.c.ticket_id == change.ticket_id))
    applied = [await _write(conn, w) for w in writes]
    if change is not None and applied[0]:
        await _change_fact(conn, change, latest)


async def _write(conn: AsyncConnection, write: Write) -> bool:
    """Carry out one write; False when it changed nothing (a row with its key was there)."""
    if write.mode is Mode.IGNORE:
        result = await conn.execute(insert_ignore(conn, write.table, write.keys).values(**write.values))
        return result.rowcount != 0
    if write.mode is Mode.NEWER:
        column = write.table.c[NEWER_BY]
        known = await conn.scalar(sa.select(column).where(
            *(write.table.c[k] == v for k, v in zip(write.keys, write.key, strict=True))))
        if known is not None and utc(known) > write.values[NEWER_BY]:  # type: ignore[operator]
            return False  # a newer row already arrived
    await conn.execute(upsert(conn, write.table, write.keys, write.values))
    return True


async def _change_fact(conn: AsyncConnection, change: TicketChange, latest: int | None) -> None:
    row = (await conn.execute(sa.select(ticket_facts).where(
        ticket_facts.c.ticket_id == change.ticket_id))).mappings().first()
    current = fact_from_row(row) if row is not None else TicketFact(ticket_id=change.ticket_id)
    late = change.sequence is not None and latest is not None and change.sequence < latest
    # An event older than one already applied: refold the stream in order instead.
    fact = (await refold(conn, change.ticket_id, current.calendar_id) if late
            else evolve(current, change.type, change.data))
    await conn.execute(upsert(conn, ticket_facts, ["ticket_id"],
                              {"ticket_id": change.ticket_id, **fact_values(fact)}))


async def refold(conn: AsyncConnection, ticket_id: UUID, calendar_id: str | None,
                 as_of: object | None = None) -> TicketFact:
    """The fact rebuilt from the stored events of one ticket (optionally up to `as_of`)."""
    query = (sa.select(ticket_events.c.type, ticket_events.c.data)
             .where(ticket_events.c.ticket_id == ticket_id)
             .order_by(ticket_events.c.sequence, ticket_events.c.at))
    if as_of is not None:
        query = query.where(ticket_events.c.at <= as_of)
    rows = (await conn.execute(query)).all()
    return fold(ticket_id, ((r.type, r.data) for r in rows), calendar_id)
