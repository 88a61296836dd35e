"""Command handling: load -> decide -> append, in one transaction; then wake the relay."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from helpdesk_events.envelope import Envelope, new_envelope
from helpdesk_runtime.runtime import ServiceRuntime

from . import store
from .commands import CreateTicket
from .domain import decide
from .errors import TicketNotFound
from .state import TicketState, evolve

SOURCE = "intake"

#: Extra work inside the same transaction (e.g. recording an Idempotency-Key response).
InTransaction = Callable[[AsyncConnection, TicketState], Awaitable[None]]


class VersionMismatch(Exception):
    """The client's If-Match version is not the ticket's current version (412)."""

    def __init__(self, expected: int, actual: int) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(f"ticket is at version {actual}, not {expected}")


async def create_ticket(
    runtime: ServiceRuntime,
    ticket_id: UUID,
    build: Callable[[str], CreateTicket],
    *,
    now: datetime,
    correlation_id: str | None = None,
    in_transaction: InTransaction | None = None,
) -> tuple[TicketState, list[Envelope]]:
    """Allocate a number, build the CreateTicket command with it, and persist the new ticket."""
    async with runtime.engine.begin() as conn:
        command = build(await store.next_number(conn, ticket_id))
        result = await _decide_and_save(conn, None, command, now, correlation_id)
        if in_transaction is not None:
            await in_transaction(conn, result[0])
    runtime.wake_relay()
    return result


async def execute(
    runtime: ServiceRuntime,
    ticket_id: UUID,
    command: Any,
    *,
    now: datetime,
    if_match: int | None = None,
    correlation_id: str | None = None,
    in_transaction: InTransaction | None = None,
) -> tuple[TicketState, list[Envelope]]:
    """Run one command against an existing ticket and persist its events."""
    async with runtime.engine.begin() as conn:
        state = await store.load(conn, ticket_id)
        if state is None:
            raise TicketNotFound(ticket_id)
        if if_match is not None and state.version != if_match:
            raise VersionMismatch(if_match, state.version)
        result = await _decide_and_save(conn, state, command, now, correlation_id)
        if in_transaction is not None:
            await in_transaction(conn, result[0])
    runtime.wake_relay()
    return result


async def _decide_and_save(
    conn: AsyncConnection, state: TicketState | None, command: Any, now: datetime,
    correlation_id: str | None,
) -> tuple[TicketState, list[Envelope]]:
    events = decide(state, command, now)
    version = state.version if state is not None else 0
    new_state = state
    envelopes: list[Envelope] = []
    for offset, event in enumerate(events, start=1):
        new_state = evolve(new_state, event)
        envelopes.append(new_envelope(
            event, source=SOURCE, subject=str(event.ticket_id), time=event.occurred_at,
            sequence=version + offset, correlationid=correlation_id,
        ))
    if new_state is None:
        raise TicketNotFound(getattr(command, "ticket_id"))
    if envelopes:
        await store.save(conn, new_state, version, envelopes)
    return new_state, envelopes
