"""Intake's persistence: load a ticket by folding its stream; save events, outbox and read model."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import replace
from typing import Any
from uuid import UUID

import orjson
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
from helpdesk_runtime.upsert import upsert_row

from .state import TicketState, fold
from .tables import events, outbox, ticket_numbers, ticket_tags, tickets

NUMBER_PREFIX = "HD-"
#: The isolation level of a connection without transactions.
AUTOCOMMIT = "AUTOCOMMIT"
NUMBER_OFFSET = 1000
_state_json = TypeAdapter(TicketState)

# Built once: SQLAlchemy finds their compiled form in its cache instead of rebuilding them.
_NEXT_NUMBER = sa.insert(ticket_numbers).returning(ticket_numbers.c.n)
_INSERT_TICKET = sa.insert(tickets)
_INSERT_TAGS = sa.insert(ticket_tags)
_DELETE_TAGS = sa.delete(ticket_tags).where(ticket_tags.c.ticket_id == sa.bindparam("ticket_id"))


#: Parameters of the create statements sent as JSON text already encoded (by orjson, several
#: times faster than the json module SQLAlchemy's JSON type would call).
_JSON_PARAMS = ("o_headers", "t_tags", "t_document")
#: Where the number allocated in the statement replaces the provisional one.
_NUMBERED = {"e_envelope", "o_value", "t_number", "t_document"}


def _param(name: str, column_type: Any, number: sa.ColumnElement[str] | None) -> Any:
    """The value inserted from parameter `name`; with `number`, its provisional number replaced."""
    if name not in _NUMBERED or number is None:
        if name in _JSON_PARAMS:
            return sa.cast(sa.bindparam(name, type_=sa.Text), column_type)
        return sa.bindparam(name, type_=column_type)
    if name == "t_number":
        return number
    provisional = sa.bindparam("provisional_number", type_=sa.Text)
    if name == "o_value":  # bytes: the envelope's UTF-8 JSON
        text = sa.func.convert_from(sa.bindparam(name, type_=column_type), "UTF8")
        return sa.func.convert_to(sa.func.replace(text, provisional, number), "UTF8",
                                  type_=column_type)
    replaced = sa.func.replace(sa.bindparam(name, type_=sa.Text), provisional, number)
    return sa.cast(replaced, column_type) if name in _JSON_PARAMS else replaced


def _params(
    prefix: str, table: sa.Table, names: list[str], number: sa.ColumnElement[str] | None
) -> list[sa.Label[Any]]:
    return [_param(prefix + n, table.c[n].type, number).label(n) for n in names]


def _create_statement(*, allocate_number: bool) -> sa.Select[Any]:
    """PostgreSQL: a new ticket's first event, its outbox row and its read-model row at once.

    One round trip instead of three. The outbox and read-model inserts select from the
    event insert, so when the stream already exists (ON CONFLICT DO NOTHING) nothing is
    written and the transaction stays usable; the outbox row carries the writer's txid and
    queues the NOTIFY, exactly as `add_to_outbox` does. With `allocate_number` the same
    statement also allocates the ticket's number (one round trip less): the rows were
    encoded with a provisional number, which it replaces.
    """
    ev_cols = ["event_id", "stream_id", "version", "type", "time", "envelope"]
    ob_cols = ["event_id", "event_type", "topic", "key", "value", "headers"]
    tk_cols = [c.name for c in tickets.c]
    number: sa.ColumnElement[str] | None = None
    allocated: Any = None
    if allocate_number:
        allocated = (
            sa.insert(ticket_numbers)
            .values(ticket_id=sa.bindparam("n_ticket_id", type_=ticket_numbers.c.ticket_id.type))
            .returning(sa.func.concat(NUMBER_PREFIX, ticket_numbers.c.n + NUMBER_OFFSET)
                       .label("number"))
            .cte("allocated")
        )
        number = allocated.c.number
    event_values = sa.select(*_params("e_", events, ev_cols, number))
    if allocated is not None:
        event_values = event_values.select_from(allocated)
    event = (
        postgresql.insert(events).from_select(ev_cols, event_values)
        .on_conflict_do_nothing(index_elements=[events.c.stream_id, events.c.version])
        .returning(events.c.event_id).cte("new_event")
    )
    after_event = event if allocated is None else event.join(allocated, sa.true())
    queued = (
        sa.insert(outbox).from_select(
            [*ob_cols, "txid"],
            sa.select(*_params("o_", outbox, ob_cols, number), CURRENT_TXID)
            .select_from(after_event),
        ).returning(sa.func.pg_notify(NOTIFY_CHANNEL, "")).cte("queued")
    )
    projected = (
        sa.insert(tickets).from_select(
            tk_cols, sa.select(*_params("t_", tickets, tk_cols, number)).select_from(after_event)
        ).returning(tickets.c.id).cte("projected")
    )
    counts = [
        sa.select(sa.func.count()).select_from(cte).scalar_subquery()
        for cte in (event, queued, projected)
    ]
    if allocated is not None:
        # The tags too, so the whole create is one statement (atomic even in autocommit).
        tagged = (
            sa.insert(ticket_tags).from_select(["ticket_id", "tag"], sa.select(
                sa.bindparam("g_ticket_id", type_=ticket_tags.c.ticket_id.type),
                sa.func.unnest(sa.bindparam("g_tags", type_=postgresql.ARRAY(sa.Text))),
            ).select_from(after_event)).returning(ticket_tags.c.tag).cte("tagged")
        )
        counts.append(sa.select(allocated.c.number).scalar_subquery())
        counts.append(sa.select(sa.func.count()).select_from(tagged).scalar_subquery())
    return sa.select(*counts)


_CREATE = _create_statement(allocate_number=False)
_CREATE_NUMBERED = _create_statement(allocate_number=True)


#: The latest state serialised: a write stores the document in the read model, then answers
#: with the same state. Holding the state keeps its id from being reused by another object.
_last_document: tuple[TicketState, dict[str, Any]] | None = None


def state_document(state: TicketState) -> dict[str, Any]:
    """The state as JSON-ready data (what GET /v1/tickets/{id} serves); treat as read-only."""
    global _last_document
    last = _last_document
    if last is not None and last[0] is state:
        return last[1]
    document = _state_json.dump_python(state, mode="json")
    _last_document = (state, document)
    return document


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
    return f"{NUMBER_PREFIX}{NUMBER_OFFSET + n}"


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
    await upsert_row(conn, tickets, ["id"], row)
    if any(_touches_tags(envelope) for envelope in envelopes):
        await conn.execute(_DELETE_TAGS, {"ticket_id": state.id})
        if state.tags:
            await conn.execute(_INSERT_TAGS, _tag_rows(state))


def numbers_on_save(conn: AsyncConnection) -> bool:
    """True when `create_numbered` may be used: PostgreSQL allocates the number while saving."""
    return conn.dialect.name == "postgresql"


def provisional_number() -> str:
    """A number to build a new ticket with until `create_numbered` allocates the real one.

    Random, so no request can contain it on purpose; `create_numbered` also checks it
    occurs exactly where the number goes.
    """
    return f"{NUMBER_PREFIX}{secrets.randbelow(9 * 10**11) + 10**11}"


async def create_numbered(
    conn: AsyncConnection, state: TicketState, envelope: Envelope
) -> TicketState | None:
    """Save a new ticket built with a provisional number, allocating its number in the same
    statement (PostgreSQL); the state with the real number, or None (nothing written) when
    the provisional number also occurs elsewhere: then allocate one first and `save`.
    """
    params = _create_params(state, envelope)
    provisional = state.number
    if not (params["e_envelope"].count(provisional) == 1
            and params["o_value"].count(provisional.encode()) == 1
            and params["t_document"].count(provisional) == 1
            and provisional not in params["o_headers"]):
        return None
    params.update(provisional_number=provisional, n_ticket_id=state.id, g_ticket_id=state.id,
                  g_tags=list(state.tags))
    conn.info[PENDING_FLAG] = True
    written = (await conn.execute(_CREATE_NUMBERED, params)).one()
    if written[0] != 1:
        raise ConcurrencyConflict(state.id, 0, await eventstore.stream_version(conn, state.id))
    return _renumbered(state, written[3])


def in_autocommit(conn: AsyncConnection) -> bool:
    """True when each statement on `conn` commits by itself (no transaction around them)."""
    return conn.sync_connection is not None and conn.sync_connection.get_execution_options().get(
        "isolation_level") == AUTOCOMMIT


async def _create_postgres(conn: AsyncConnection, state: TicketState, envelope: Envelope) -> None:
    """`save` of a new ticket's single event on PostgreSQL, in one statement (+ its tags)."""
    conn.info[PENDING_FLAG] = True
    written = (await conn.execute(_CREATE, _create_params(state, envelope))).one()
    if written[0] != 1:
        raise ConcurrencyConflict(state.id, 0, await eventstore.stream_version(conn, state.id))
    if state.tags:
        await conn.execute(_INSERT_TAGS, _tag_rows(state))


def _create_params(state: TicketState, envelope: Envelope) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for prefix, row in (
        ("e_", eventstore.event_rows(state.id, 0, [envelope])[0]),
        ("o_", outbox_rows([envelope])[0]),
        ("t_", _read_model_row(state)),
    ):
        params.update({prefix + name: value for name, value in row.items()})
    for name in _JSON_PARAMS:
        params[name] = orjson.dumps(params[name]).decode()
    return params


def _renumbered(state: TicketState, number: str) -> TicketState:
    """`state` with its real number (its document, already serialised, is reused)."""
    document = state_document(state)
    renumbered = replace(state, number=number)
    global _last_document
    _last_document = (renumbered, {**document, "number": number})
    return renumbered


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
