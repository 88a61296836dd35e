"""Intake's persistence: load a ticket by folding its stream; save events, outbox and read model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from pydantic import TypeAdapter
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from helpdesk_events import eventstore
from helpdesk_events.envelope import Envelope
from helpdesk_events.eventstore import ConcurrencyConflict
from helpdesk_events.outbox import (
    CURRENT_TXID,
    NOTIFY_CHANNEL,
    PENDING_FLAG,
    add_to_outbox,
    outbox_rows,
)
from helpdesk_events.tickets import TicketCreated, TicketUpdated
from helpdesk_runtime.upsert import upsert

from .state import TicketState, fold
from .tables import events, outbox, ticket_numbers, ticket_tags, tickets

NUMBER_OFFSET = 1000
_state_json = TypeAdapter(TicketState)

# Built once: SQLAlchemy finds their compiled form in its cache instead of rebuilding them.
_NEXT_NUMBER = sa.insert(ticket_numbers).returning(ticket_numbers.c.n)
_INSERT_TICKET = sa.insert(tickets)
_INSERT_TAGS = sa.insert(ticket_tags)
_DELETE_TAGS = sa.delete(ticket_tags).where(ticket_tags.c.ticket_id == sa.bindparam("ticket_id"))


def _params(prefix: str, table: sa.Table, names: list[str]) -> list[sa.Label[Any]]:
    return [sa.bindparam(f"{prefix}{n}", type_=table.c[n].type).label(n) for n in names]


def _create_statement() -> sa.Select[Any]:
    """PostgreSQL: a new ticket's first event, its outbox row and its read-model row at once.

    One round trip instead of three. The outbox and read-model inserts select from the
    event insert, so when the stream already exists (ON CONFLICT DO NOTHING) nothing is
    written and the transaction stays usable; the outbox row carries the writer's txid and
    queues the NOTIFY, exactly as `add_to_outbox` does.
    """
    ev_cols = ["event_id", "stream_id", "version", "type", "time", "envelope"]
    ob_cols = ["event_id", "event_type", "topic", "key", "value", "headers"]
    tk_cols = [c.name for c in tickets.c]
    event = (
        postgresql.insert(events).from_select(ev_cols, sa.select(*_params("e_", events, ev_cols)))
        .on_conflict_do_nothing(index_elements=[events.c.stream_id, events.c.version])
        .returning(events.c.event_id).cte("new_event")
    )
    queued = (
        sa.insert(outbox).from_select(
            [*ob_cols, "txid"],
            sa.select(*_params("o_", outbox, ob_cols), CURRENT_TXID).select_from(event),
        ).returning(sa.func.pg_notify(NOTIFY_CHANNEL, "")).cte("queued")
    )
    projected = (
        sa.insert(tickets).from_select(
            tk_cols, sa.select(*_params("t_", tickets, tk_cols)).select_from(event)
        ).returning(tickets.c.id).cte("projected")
    )
    return sa.select(*(
        sa.select(sa.func.count()).select_from(cte).scalar_subquery()
        for cte in (event, queued, projected)
    ))


_CREATE = _create_statement()


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
    n = (await conn.execute(_NEXT_NUMBER, {"ticket_id": ticket_id})).scalar_one()
    return f"HD-{NUMBER_OFFSET + n}"


async def queue_for_publishing(conn: AsyncConnection, envelopes: Sequence[Envelope]) -> None:
    """Add `envelopes` to the outbox (the runtime wakes the relay once the transaction ends)."""
    await add_to_outbox(conn, envelopes)


async def save(
    conn: AsyncConnection, state: TicketState, expected_version: int, envelopes: Sequence[Envelope]
) -> None:
    """Append the events (optimistic check), queue them for Kafka, update the read model."""
    if expected_version == 0 and len(envelopes) == 1 and conn.dialect.name == "postgresql":
        await _create_postgres(conn, state, envelopes[0])
        return
    await eventstore.append(conn, state.id, expected_version, envelopes)
    await queue_for_publishing(conn, envelopes)
    row = _read_model_row(state)
    if expected_version == 0:
        # A new stream was just appended (the append would have raised otherwise), so the
        # ticket has no read-model row and no tags yet: plain inserts, nothing to delete.
        await conn.execute(_INSERT_TICKET, row)
        if state.tags:
            await conn.execute(_INSERT_TAGS, _tag_rows(state))
        return
    await conn.execute(upsert(conn, tickets, ["id"], row))
    if any(_touches_tags(envelope) for envelope in envelopes):
        await conn.execute(_DELETE_TAGS, {"ticket_id": state.id})
        if state.tags:
            await conn.execute(_INSERT_TAGS, _tag_rows(state))


async def _create_postgres(conn: AsyncConnection, state: TicketState, envelope: Envelope) -> None:
    """`save` of a new ticket's single event on PostgreSQL, in one statement (+ its tags)."""
    params: dict[str, Any] = {}
    for prefix, row in (
        ("e_", eventstore.event_rows(state.id, 0, [envelope])[0]),
        ("o_", outbox_rows([envelope])[0]),
        ("t_", _read_model_row(state)),
    ):
        params.update({prefix + name: value for name, value in row.items()})
    conn.info[PENDING_FLAG] = True
    written = (await conn.execute(_CREATE, params)).one()
    if written[0] != 1:
        raise ConcurrencyConflict(state.id, 0, await eventstore.stream_version(conn, state.id))
    if state.tags:
        await conn.execute(_INSERT_TAGS, _tag_rows(state))


def _tag_rows(state: TicketState) -> list[dict[str, Any]]:
    return [{"ticket_id": state.id, "tag": tag} for tag in state.tags]


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
