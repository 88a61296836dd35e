"""Intake's persistence: load a ticket by folding its stream; save events, outbox and read model."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any
from uuid import UUID

import orjson
import sqlalchemy as sa
from pydantic import TypeAdapter
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

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
_EXISTS = sa.select(tickets.c.id).where(tickets.c.id == sa.bindparam("id"))
_VERSION = sa.select(sa.func.max(events.c.version)).where(
    events.c.stream_id == sa.bindparam("stream_id"))
_LOCK_ONE = sa.select(tickets.c.id).where(tickets.c.id == sa.bindparam("id")).with_for_update()
_DELETE_EVENTS = sa.delete(events).where(
    events.c.event_id.in_(sa.bindparam("event_ids", expanding=True)))


#: Parameters of the create statements sent as JSON text already encoded (by orjson, several
#: times faster than the json module SQLAlchemy's JSON type would call).
_JSON_PARAMS = ("o_headers", "t_tags", "t_document")
#: The read-model columns among them.
_JSON_PARAMS_T = {"tags", "document"}
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
_EVENT_COLUMNS = ("event_id", "stream_id", "version", "type", "time", "envelope")
_OUTBOX_COLUMNS = ("event_id", "event_type", "topic", "key", "value", "headers")


def _bound(name: str, column: sa.Column[Any], json: bool) -> Any:
    if json:
        return sa.cast(sa.bindparam(name, type_=sa.Text), column.type)
    return sa.bindparam(name, type_=column.type)


def _update_statement(count: int) -> sa.Select[Any]:
    """PostgreSQL: `count` events of an existing ticket, their outbox rows and its read-model
    row at once (one round trip instead of four).

    The event insert skips versions already taken (ON CONFLICT DO NOTHING); the outbox and
    read-model writes happen only when every event went in. The caller compares the counts
    returned and, on a lost race, deletes what went in and raises ConcurrencyConflict, as
    `eventstore.append` does; the outbox rows carry the txid and queue the NOTIFY, as
    `add_to_outbox` does.
    """
    def rows(prefix: str, table: sa.Table, columns: tuple[str, ...], json: set[str],
             *extra: Any) -> Any:
        selects = [
            sa.select(*(_bound(f"{prefix}{i}_{c}", table.c[c], c in json).label(c)
                        for c in columns), *extra)
            for i in range(count)
        ]
        return selects[0] if count == 1 else sa.union_all(*selects)

    event = (
        postgresql.insert(events)
        .from_select(list(_EVENT_COLUMNS), rows("e", events, _EVENT_COLUMNS, set()))
        .on_conflict_do_nothing(index_elements=[events.c.stream_id, events.c.version])
        .returning(events.c.event_id).cte("new_events")
    )
    complete = sa.select(sa.func.count()).select_from(event).scalar_subquery() == count
    outbox_rows_ = rows("o", outbox, _OUTBOX_COLUMNS, {"headers"}, CURRENT_TXID.label("txid"))
    queued = (
        sa.insert(outbox).from_select(
            [*_OUTBOX_COLUMNS, "txid"],
            sa.select(outbox_rows_.subquery()).where(complete),
        ).returning(sa.func.pg_notify(NOTIFY_CHANNEL, "")).cte("queued")
    )
    tk_cols = [c.name for c in tickets.c]
    upsert = postgresql.insert(tickets).from_select(
        tk_cols, sa.select(*(_bound(f"t_{c}", tickets.c[c], c in _JSON_PARAMS_T).label(c)
                             for c in tk_cols)).where(complete))
    projected = (
        upsert.on_conflict_do_update(
            index_elements=[tickets.c.id],
            set_={c: upsert.excluded[c] for c in tk_cols if c != "id"},
        ).returning(tickets.c.id).cte("projected")
    )
    return sa.select(*(sa.select(sa.func.count()).select_from(cte).scalar_subquery()
                       for cte in (event, queued, projected)))

#: Built on first use, per number of events written at once.
_UPDATES: dict[int, sa.Select[Any]] = {}


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
    return fold(env.data for env in await eventstore.read_stream(conn, ticket_id))


async def exists(conn: Connection, ticket_id: UUID) -> bool:
    """True if the ticket exists (its read-model row is written with its first event)."""
    if isinstance(conn, Autocommit):
        return await conn.one(_EXISTS, {"id": ticket_id}) is not None
    return await conn.scalar(_EXISTS, {"id": ticket_id}) is not None


async def lock(conn: AsyncConnection, *ticket_ids: UUID) -> None:
    """Queue behind other writers of these tickets until this transaction ends (PostgreSQL).

    Writers of one ticket then take turns instead of racing to the event store's optimistic
    check (which stays the safety net). Rows are locked in id order, so two transactions
    locking the same tickets never deadlock. SQLite has a single writer: nothing to lock.
    """
    if conn.dialect.name != "postgresql":
        return
    if len(ticket_ids) == 1:
        await conn.execute(_LOCK_ONE, {"id": ticket_ids[0]})
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
    if (expected_version > 0 and conn.dialect.name == "postgresql"
            and not any(_touches_tags(envelope) for envelope in envelopes)):
        await _update_postgres(conn, state, expected_version, envelopes)
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


def numbers_on_save(conn: Connection) -> bool:
    """True when `create_numbered` may be used: PostgreSQL allocates the number while saving."""
    return isinstance(conn, Autocommit) or conn.dialect.name == "postgresql"


def provisional_number() -> str:
    """A number to build a new ticket with until `create_numbered` allocates the real one.

    Random, so no request can contain it on purpose; `create_numbered` also checks it
    occurs exactly where the number goes.
    """
    return f"{NUMBER_PREFIX}{secrets.randbelow(9 * 10**11) + 10**11}"


async def create_numbered(
    conn: Connection, state: TicketState, envelope: Envelope
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
    if isinstance(conn, Autocommit):
        written = await conn.one(_CREATE_NUMBERED, params)
        if written[0] != 1:
            version = (await conn.one(_VERSION, {"stream_id": state.id}))[0]
            raise ConcurrencyConflict(state.id, 0, int(version or 0))
        return _renumbered(state, written[3])
    written = (await conn.execute(_CREATE_NUMBERED, params)).one()
    if written[0] != 1:
        raise ConcurrencyConflict(state.id, 0, await eventstore.stream_version(conn, state.id))
    return _renumbered(state, written[3])


class Autocommit:
    """A pooled PostgreSQL connection used through asyncpg itself: each statement commits alone.

    For the one-statement create: SQLAlchemy's Connection (checkout, isolation level set
    and reset, parameter processing) cost more CPU than the statement. Statements are
    SQLAlchemy constructs compiled once for the engine's dialect; driver errors reach the
    caller as SQLAlchemy's DBAPIError (a lost connection is invalidated), as through a
    Connection.
    """

    def __init__(self, engine: AsyncEngine, fairy: PoolProxiedConnection) -> None:
        self._dialect = engine.dialect
        self._fairy = fairy

    @property
    def info(self) -> dict[Any, Any]:
        """The pooled connection's info (PENDING_FLAG set here wakes the relay at checkin)."""
        return self._fairy.info

    async def one(self, statement: sa.Executable, params: dict[str, Any]) -> Any:
        """The first row of `statement` run with `params` (None when it returns none)."""
        sql, order = _compiled(self._dialect, statement)
        args = []
        for name, literal, process in order:
            value = params[name] if literal is _REQUIRED else literal
            args.append(value if process is None or value is None else process(value))
        try:
            return await self._fairy.driver_connection.fetchrow(sql, *args)
        except Exception as error:
            translated = self._translated(sql, error)
            if translated is error:
                raise
            raise translated from error

    def _translated(self, sql: str, error: Exception) -> Exception:
        """What SQLAlchemy's Connection would raise for the driver's `error`."""
        dbapi = self._dialect.loaded_dbapi
        try:
            # The adapter maps asyncpg's exceptions to its DB-API ones (others it re-raises).
            self._fairy.dbapi_connection._handle_exception(error)
        except dbapi.Error as adapted:
            lost = self._dialect.is_disconnect(adapted, self._fairy.dbapi_connection, None)
            if lost:
                self._fairy.invalidate(adapted)
            return DBAPIError.instance(sql, None, adapted, dbapi.Error,
                                       connection_invalidated=lost, dialect=self._dialect)
        except Exception:  # noqa: BLE001 - not a database error: the caller re-raises it
            return error
        return error


@asynccontextmanager
async def autocommit(engine: AsyncEngine) -> AsyncIterator[Autocommit]:
    """A pooled connection for statements that each commit by themselves (PostgreSQL)."""
    fairy = await engine.raw_connection()
    try:
        yield Autocommit(engine, fairy)
    finally:
        # Shielded, as AsyncConnection's exit is: a cancelled request still returns it.
        await asyncio.shield(greenlet_spawn(fairy.close))


_REQUIRED = object()
#: (dialect, statement) -> SQL and (name, literal value or _REQUIRED, bind processor) in order.
_COMPILED: dict[tuple[int, int], tuple[str, list[tuple[str, Any, Any]]]] = {}


def _compiled(dialect: Any, statement: Any) -> tuple[str, list[tuple[str, Any, Any]]]:
    """`statement`'s SQL for `dialect` and its parameters in order (with their literal values)."""
    # Keyed by identity: only module-level statements (alive for the process) come here.
    key = (id(dialect), id(statement))
    found = _COMPILED.get(key)
    if found is None:
        compiled = statement.compile(dialect=dialect)
        processors = getattr(compiled, "_bind_processors", {})
        order = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            literal = _REQUIRED if bind.required else bind.effective_value
            order.append((name, literal, processors.get(name)))
        found = _COMPILED[key] = (str(compiled), order)
    return found


#: A connection a write runs on: SQLAlchemy's, or `Autocommit` for a single statement.
Connection = AsyncConnection | Autocommit


def in_autocommit(conn: Connection) -> bool:
    """True when each statement on `conn` commits by itself (no transaction around them)."""
    if isinstance(conn, Autocommit):
        return True
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


async def _update_postgres(
    conn: AsyncConnection, state: TicketState, expected_version: int, envelopes: Sequence[Envelope]
) -> None:
    """`save` of an existing ticket's events on PostgreSQL, in one statement (tags unchanged)."""
    count = len(envelopes)
    statement = _UPDATES.get(count)
    if statement is None:
        statement = _UPDATES[count] = _update_statement(count)
    params: dict[str, Any] = {}
    for i, envelope in enumerate(envelopes):
        params.update(_event_and_outbox_params(
            f"e{i}_", f"o{i}_", state.id, expected_version + i + 1, envelope))
    for name, value in _read_model_row(state).items():
        params[f"t_{name}"] = orjson.dumps(value).decode() if name in _JSON_PARAMS_T else value
    conn.info[PENDING_FLAG] = True
    written = (await conn.execute(statement, params)).one()
    if written[0] == count:
        return
    if written[0]:
        await conn.execute(_DELETE_EVENTS, {"event_ids": [e.id for e in envelopes]})
    raise ConcurrencyConflict(state.id, expected_version,
                              await eventstore.stream_version(conn, state.id))


def _create_params(state: TicketState, envelope: Envelope) -> dict[str, Any]:
    params = _event_and_outbox_params("e_", "o_", state.id, 1, envelope)
    for name, value in _read_model_row(state).items():
        params[f"t_{name}"] = orjson.dumps(value).decode() if name in _JSON_PARAMS_T else value
    return params


def _event_and_outbox_params(
    event: str, queued: str, stream_id: UUID, version: int, envelope: Envelope
) -> dict[str, Any]:
    """The parameters of `envelope`'s event row (names prefixed `event`) and outbox row
    (prefixed `queued`), from one encoding of the envelope."""
    ((event_row, outbox_row),) = eventstore.event_and_outbox_rows(stream_id, version - 1,
                                                                   [envelope])
    params = {f"{event}{name}": value for name, value in event_row.items()}
    params.update({f"{queued}{name}": value for name, value in outbox_row.items()})
    params[f"{queued}headers"] = orjson.dumps(params[f"{queued}headers"]).decode()
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
