"""Reading and writing the sla tables (the adapter around the pure domain)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from helpdesk_businesstime import Calendar
from helpdesk_events.envelope import EVENT_TYPES, Envelope, Event, new_envelope
from helpdesk_events.outbox import (
    CURRENT_TXID,
    NOTIFY_CHANNEL,
    PENDING_FLAG,
    add_to_outbox,
    outbox_rows,
)
from helpdesk_events.sla import SlaBreached, Target
from helpdesk_events.tickets import TicketEvent
from helpdesk_runtime.upsert import insert_ignore, insert_row_ignoring
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from .domain.policies import DEFAULT_CALENDAR_ID, Policy, SlaConfig, default_calendar
from .domain.state import Decision, TicketSla, Timer, TimerKind
from .tables import breaches, calendars, outbox, policies, sla_timers, ticket_history, ticket_sla

SOURCE = "sla"

# Building a Calendar resolves public holidays: cache it by its definition.
_calendar_cache: dict[str, Calendar] = {}


def calendar_of(definition: dict[str, Any]) -> Calendar:
    """The `Calendar` of a stored definition (cached)."""
    key = json.dumps(definition, sort_keys=True)
    found = _calendar_cache.get(key)
    if found is None:
        if len(_calendar_cache) > 1000:
            _calendar_cache.clear()
        found = _calendar_cache[key] = Calendar.from_dict(definition)
    return found


async def load_calendars(conn: AsyncConnection) -> dict[str, Calendar]:
    """Every calendar by id, the built-in 24x7 included."""
    rows = (await conn.execute(sa.select(calendars.c.id, calendars.c.definition))).all()
    found = {row.id: calendar_of(row.definition) for row in rows}
    found.setdefault(DEFAULT_CALENDAR_ID, default_calendar())
    return found


async def load_policies(conn: AsyncConnection) -> list[Policy]:
    """Configured policies in evaluation order."""
    rows = (
        await conn.execute(
            sa.select(policies.c.definition).order_by(policies.c.position, policies.c.id)
        )
    ).all()
    return [Policy.model_validate(row.definition) for row in rows]


async def load_config(conn: AsyncConnection) -> SlaConfig:
    """The policies and calendars decisions read."""
    global _last_config
    rows = tuple(map(tuple, await conn.execute(_CONFIG_ROWS)))
    if _last_config is not None and _last_config[0] == rows:
        return _last_config[1]
    found: dict[str, Calendar] = {}
    for kind, _, key, definition in rows:
        if kind == 1:
            found[key] = calendar_of(json.loads(definition))
    found.setdefault(DEFAULT_CALENDAR_ID, default_calendar())
    config = SlaConfig(
        policies=tuple(
            Policy.model_validate_json(definition) for kind, _, _, definition in rows if kind == 0
        ),
        calendars=found,
    )
    _last_config = (rows, config)
    return config


#: Built once: both tables in one round trip, each definition as its stored JSON text (the
#: key of the last configuration built). Policies first, in evaluation order.
_CONFIG_ROWS = sa.union_all(
    sa.select(
        sa.literal_column("0").label("kind"), policies.c.position, policies.c.id,
        sa.cast(policies.c.definition, sa.Text).label("definition"),
    ),
    sa.select(
        sa.literal_column("1"), sa.literal_column("0"), calendars.c.id,
        sa.cast(calendars.c.definition, sa.Text),
    ),
).order_by("kind", "position", "id")

#: The stored rows and the configuration built from them: a consumer reads the configuration
#: once per transaction, and it rarely changes between two (an unchanged one is not rebuilt).
_last_config: tuple[tuple[Any, ...], SlaConfig] | None = None


async def load_state(
    conn: AsyncConnection, ticket_id: uuid.UUID, *, lock: bool = False
) -> TicketSla | None:
    """A ticket's SLA state; `lock` serialises writers of one ticket on PostgreSQL."""
    query = _state_query(conn.dialect.name == "postgresql" and lock)
    text = (await conn.execute(query, {"ticket_id": ticket_id})).scalar_one_or_none()
    return None if text is None else TicketSla.model_validate_json(text)


@lru_cache(maxsize=2)
def _state_query(lock: bool) -> sa.Select:  # type: ignore[type-arg]
    # Built once, the id a parameter: no statement to build and cache-key per event.
    query = sa.select(ticket_sla.c.state).where(ticket_sla.c.ticket_id == sa.bindparam("ticket_id"))
    return query.with_for_update() if lock else query


async def lock_states(
    conn: AsyncConnection, ticket_ids: Sequence[uuid.UUID], *, claimed: Sequence[Timer] = ()
) -> tuple[dict[uuid.UUID, TicketSla], set[uuid.UUID]]:
    """The SLA states of `ticket_ids` in one query, locked; and the ids another writer holds.

    On PostgreSQL rows locked by another transaction are skipped (`SKIP LOCKED`), never waited
    for: a consumer holding a ticket's row waits for that ticket's timer rows, so waiting here
    could deadlock. The skipped ids are returned as busy, for the caller to retry later.
    `claimed`: the timer rows the caller holds. A ticket with another stored timer due before
    the latest of them is busy too: that timer is another claimer's (SKIP LOCKED kept it from
    this one), and a ticket's timers fire in due order, a warning before its breach.
    """
    if not ticket_ids:
        return {}, set()
    ids = sorted(set(ticket_ids))
    postgres = conn.dialect.name == "postgresql"
    behind: sa.ColumnElement[bool] = sa.false()
    if postgres and claimed:  # SQLite has one writer: one claimer
        t = sla_timers.c
        behind = sa.exists().where(
            t.ticket_id == ticket_sla.c.ticket_id,
            t.due_at < max(timer.due_at for timer in claimed),
            not_among(conn, t.key, [timer.key for timer in claimed]),
        )
    # Only the JSON, which holds the id: no id column to fetch and convert per row.
    query = (
        sa.select(ticket_sla.c.state, behind)
        .where(among(conn, ticket_sla.c.ticket_id, ids))
        .order_by(ticket_sla.c.ticket_id)
    )
    if postgres:
        query = query.with_for_update(skip_locked=True, of=ticket_sla)
    states: dict[uuid.UUID, TicketSla] = {}
    busy: set[uuid.UUID] = set()
    for text, later in (await conn.execute(query)).all():
        state = TicketSla.model_validate_json(text)
        if later:
            busy.add(state.ticket_id)
        else:
            states[state.ticket_id] = state
    absent = [t for t in ids if t not in states and t not in busy]
    if postgres and absent:  # rare: tell a locked row from a missing one
        busy |= set(
            await conn.scalars(
                sa.select(ticket_sla.c.ticket_id).where(
                    among(conn, ticket_sla.c.ticket_id, absent)
                )
            )
        )
    return states, busy


async def append_history(conn: AsyncConnection, envelope: Envelope) -> None:
    """Keep a ticket event for replays (idempotent by event id)."""
    await insert_row_ignoring(conn, ticket_history, ["event_id"], _history_row(envelope))


def _state_row(state: TicketSla, now: datetime, prefix: str = "") -> dict[str, Any]:
    return {
        f"{prefix}ticket_id": state.ticket_id,
        f"{prefix}created_at": state.facts.created_at,
        f"{prefix}policy_id": state.policy_id,
        f"{prefix}state": state.model_dump_json(),
        f"{prefix}updated_at": now,
    }


def _history_row(envelope: Envelope, prefix: str = "") -> dict[str, Any]:
    event = envelope.data
    assert isinstance(event, TicketEvent)
    return {
        f"{prefix}event_id": envelope.id,
        f"{prefix}ticket_id": event.ticket_id,
        f"{prefix}event_type": envelope.type,
        f"{prefix}occurred_at": event.occurred_at,
        f"{prefix}payload": event.model_dump_json(),
    }


async def record_and_lock(conn: AsyncConnection, envelope: Envelope) -> TicketSla | None:
    """`append_history(envelope)` then `load_state(its ticket, lock=True)`: one statement on
    PostgreSQL (one round trip and one execution less per event)."""
    if conn.dialect.name != "postgresql":
        await append_history(conn, envelope)
        event = envelope.data
        assert isinstance(event, TicketEvent)
        return await load_state(conn, event.ticket_id, lock=True)
    params = _history_row(envelope, "h0_")
    params["ticket_id"] = params["h0_ticket_id"]
    text = (await conn.execute(_RECORD_AND_LOCK, params)).scalar_one_or_none()
    return None if text is None else TicketSla.model_validate_json(text)


_HISTORY_COLUMNS = ("event_id", "ticket_id", "event_type", "occurred_at", "payload")
_STATE_COLUMNS = ("ticket_id", "created_at", "policy_id", "state", "updated_at")
_TIMER_COLUMNS = ("key", "ticket_id", "target", "kind", "generation", "due_at")
_OUTBOX_COLUMNS = ("event_id", "event_type", "topic", "key", "value", "headers")


def _rows(prefix: str, table: sa.Table, columns: Sequence[str], count: int, *extra: Any) -> Any:
    """`count` rows of `columns` from parameters `{prefix}{i}_{column}` (a SELECT per row)."""
    def bound(name: str, column: sa.Column[Any]) -> Any:
        # JSON goes as text already encoded: the JSON type's serializer is not needed.
        if isinstance(column.type, sa.JSON):
            return sa.cast(sa.bindparam(name, type_=sa.Text), column.type)
        return sa.bindparam(name, type_=column.type)

    selects = [
        sa.select(*(bound(f"{prefix}{i}_{c}", table.c[c]).label(c) for c in columns), *extra)
        for i in range(count)
    ]
    return selects[0] if count == 1 else sa.union_all(*selects)


def _history_insert() -> Any:
    return (
        postgresql.insert(ticket_history)
        .from_select(list(_HISTORY_COLUMNS), _rows("h", ticket_history, _HISTORY_COLUMNS, 1))
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(ticket_history.c.event_id)
        .cte("recorded")
    )


#: Built once (PostgreSQL): the history row written, the ticket's state read and locked.
_RECORD_AND_LOCK = (
    sa.select(ticket_sla.c.state)
    .where(ticket_sla.c.ticket_id == sa.bindparam("ticket_id"))
    .with_for_update()
    .add_cte(_history_insert())
)


@lru_cache(maxsize=32)
def _start_statement(timers: int, events: int) -> sa.Select:  # type: ignore[type-arg]
    """PostgreSQL: a ticket's first decision with its history row, in one statement.

    The state is inserted only when the ticket has none (ON CONFLICT DO NOTHING); its timers
    and outbox rows only when the state went in. The history row goes in either way. The
    outbox rows carry the writer's txid and queue the NOTIFY, as `add_to_outbox` does.
    """
    started = (
        postgresql.insert(ticket_sla)
        .from_select(list(_STATE_COLUMNS), _rows("s", ticket_sla, _STATE_COLUMNS, 1))
        .on_conflict_do_nothing(index_elements=["ticket_id"])
        .returning(ticket_sla.c.ticket_id)
        .cte("started")
    )
    fresh = sa.exists(sa.select(started.c.ticket_id))
    statement = sa.select(sa.select(sa.func.count()).select_from(started).scalar_subquery())
    statement = statement.add_cte(_history_insert())
    if timers:
        statement = statement.add_cte(_timers_insert(timers, fresh))
    if events:
        statement = statement.add_cte(_outbox_insert(events, fresh))
    return statement


async def start_ticket(
    conn: AsyncConnection, envelope: Envelope, decision: Decision, *, at: datetime,
    causation: str | None = None,
) -> bool:
    """PostgreSQL: record `envelope` and persist a new ticket's `decision` in one statement.

    For a decision on no state, that has a state and no breach (a TicketCreated's). False
    when the ticket had a state already: then only the history row was written.
    """
    state = decision.state
    assert state is not None and not any(isinstance(e, SlaBreached) for e in decision.events)
    params = _history_row(envelope, "h0_")
    params.update(_state_row(state, datetime.now(UTC), "s0_"))
    _timer_params(params, decision.timers)
    envelopes = _envelopes(decision.events, at=at, causation=causation)
    _outbox_params(params, envelopes)
    statement = _start_statement(len(decision.timers), len(envelopes))
    started = (await conn.execute(statement, params)).scalar_one()
    if started and envelopes:
        conn.info[PENDING_FLAG] = True
    return bool(started)


async def load_history(
    conn: AsyncConnection, ticket_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[TicketEvent]]:
    """The stored events of `ticket_ids`, each ticket's in the order they arrived."""
    found: dict[uuid.UUID, list[TicketEvent]] = {t: [] for t in ticket_ids}
    for start in range(0, len(ticket_ids), 500):
        chunk = list(ticket_ids[start : start + 500])
        rows = await conn.execute(
            sa.select(
                ticket_history.c.ticket_id, ticket_history.c.event_type, ticket_history.c.payload
            )
            .where(ticket_history.c.ticket_id.in_(chunk))
            .order_by(ticket_history.c.position)
        )
        for row in rows:
            cls = EVENT_TYPES.get(row.event_type)
            if cls is not None:
                found[row.ticket_id].append(cls.model_validate_json(row.payload))  # type: ignore[arg-type]
    return found


async def apply_decision(
    conn: AsyncConnection,
    ticket_id: uuid.UUID,
    decision: Decision,
    *,
    at: datetime,
    causation: str | None = None,
    stored: Collection[str] | None = None,
    record: Envelope | None = None,
) -> None:
    """Persist a decision in the caller's transaction: state, timers, breaches, outbox.

    `stored`: the keys of the ticket's stored timers when the caller knows them (else read).
    `record`: a ticket event to `append_history` with it (in the same statement if it can).
    """
    if stored is not None and conn.dialect.name == "postgresql":
        if await _apply_one_postgres(
            conn, decision, at=at, causation=causation, stored=stored, record=record
        ):
            return
    if record is not None:
        await append_history(conn, record)
    await apply_decisions(
        conn, [(ticket_id, decision)], at=at, causation=causation,
        stored=None if stored is None else {ticket_id: stored},
    )


async def apply_decisions(
    conn: AsyncConnection,
    decisions: Sequence[tuple[uuid.UUID, Decision]],
    *,
    at: datetime,
    causation: str | None = None,
    stored: Mapping[uuid.UUID, Collection[str]] | None = None,
) -> None:
    """Persist many tickets' decisions in the caller's transaction, one statement per table.

    `stored`: the keys of every ticket's stored timers when the caller knows them (else read).
    """
    if not decisions:
        return
    now = datetime.now(UTC)
    states = [_state_row(d.state, now) for _, d in decisions if d.state is not None]
    if states:
        await conn.execute(_state_upsert(conn.dialect.name), states)
    await sync_timers_many(conn, {ticket_id: d.timers for ticket_id, d in decisions}, stored)
    rows = [
        {
            "ticket_id": event.ticket_id,
            "target": event.target.value,
            "policy_id": d.state.policy_id if d.state else "",
            "due_at": event.due_at,
            "breached_at": at,
            "late_by_seconds": event.late_by_seconds,
            "priority": event.priority,
            "team": event.team,
            "escalate": event.escalate,
        }
        for _, d in decisions
        for event in d.events
        if isinstance(event, SlaBreached)
    ]
    if rows:
        await conn.execute(
            insert_ignore(conn, breaches, ["ticket_id", "target"]).returning(breaches.c.ticket_id),
            rows,
        )
    events = [event for _, d in decisions for event in d.events]
    await publish(conn, events, at=at, causation=causation)


_BREACH_COLUMNS = (
    "ticket_id", "target", "policy_id", "due_at", "breached_at", "late_by_seconds", "priority",
    "team", "escalate",
)


async def _apply_one_postgres(
    conn: AsyncConnection, decision: Decision, *, at: datetime, causation: str | None,
    stored: Collection[str], record: Envelope | None,
) -> bool:
    """`apply_decisions` of one ticket whose stored timers are known (and `record`'s history
    row), in one statement.

    False (nothing written) when it would write one table only: its own statement is the
    cheaper one then.
    """
    state = decision.state
    keep = {timer.key for timer in decision.timers}
    stale = [key for key in stored if key not in keep]
    missing = [timer for timer in decision.timers if timer.key not in stored]
    tables = (state is not None) + bool(stale) + bool(missing) + bool(decision.events)
    if tables + (record is not None) < 2:
        return False
    breached = [event for event in decision.events if isinstance(event, SlaBreached)]
    envelopes = _envelopes(decision.events, at=at, causation=causation)
    params: dict[str, Any] = {} if record is None else _history_row(record, "h0_")
    if state is not None:
        params.update(_state_row(state, datetime.now(UTC), "s0_"))
    if stale:
        params["stale"] = stale
    _timer_params(params, missing)
    for i, event in enumerate(breached):
        params.update({
            f"b{i}_ticket_id": event.ticket_id,
            f"b{i}_target": event.target.value,
            f"b{i}_policy_id": state.policy_id if state else "",
            f"b{i}_due_at": event.due_at,
            f"b{i}_breached_at": at,
            f"b{i}_late_by_seconds": event.late_by_seconds,
            f"b{i}_priority": event.priority,
            f"b{i}_team": event.team,
            f"b{i}_escalate": event.escalate,
        })
    _outbox_params(params, envelopes)
    statement = _decision_statement(
        record is not None, state is not None, bool(stale), len(missing), len(breached),
        len(envelopes),
    )
    (await conn.execute(statement, params)).close()
    if envelopes:
        conn.info[PENDING_FLAG] = True
    return True


def _timer_params(params: dict[str, Any], timers: Sequence[Timer]) -> None:
    for i, timer in enumerate(timers):
        params.update({
            f"t{i}_key": timer.key,
            f"t{i}_ticket_id": timer.ticket_id,
            f"t{i}_target": timer.target.value,
            f"t{i}_kind": timer.kind.value,
            f"t{i}_generation": timer.generation,
            f"t{i}_due_at": timer.due_at,
        })


def _outbox_params(params: dict[str, Any], envelopes: Sequence[Envelope]) -> None:
    # Each envelope encoded once, its headers as JSON text (the column's cast parses it).
    for i, row in enumerate(outbox_rows(envelopes)):
        row["headers"] = json.dumps(row["headers"])
        params.update({f"o{i}_{name}": value for name, value in row.items()})


def _timers_insert(count: int, where: Any = None) -> Any:
    rows = sa.select(_rows("t", sla_timers, _TIMER_COLUMNS, count).subquery())
    return (
        postgresql.insert(sla_timers)
        .from_select(list(_TIMER_COLUMNS), rows if where is None else rows.where(where))
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(sla_timers.c.key)
        .cte("timed")
    )


def _outbox_insert(count: int, where: Any = None) -> Any:
    rows = sa.select(
        _rows("o", outbox, _OUTBOX_COLUMNS, count, CURRENT_TXID.label("txid")).subquery()
    )
    return (
        sa.insert(outbox)
        .from_select([*_OUTBOX_COLUMNS, "txid"], rows if where is None else rows.where(where))
        .returning(sa.func.pg_notify(NOTIFY_CHANNEL, ""))
        .cte("queued")
    )


@lru_cache(maxsize=128)
def _decision_statement(
    history: bool, state: bool, stale: bool, timers: int, breached: int, events: int
) -> sa.Select:  # type: ignore[type-arg]
    """PostgreSQL: one ticket's decision in one statement (history row, state, timers,
    breaches, outbox)."""
    statement = sa.select(sa.literal_column("1"))
    if history:
        statement = statement.add_cte(_history_insert())
    if state:
        upsert = postgresql.insert(ticket_sla).from_select(
            list(_STATE_COLUMNS), _rows("s", ticket_sla, _STATE_COLUMNS, 1)
        )
        changed = ("created_at", "policy_id", "state", "updated_at")
        statement = statement.add_cte(
            upsert.on_conflict_do_update(
                index_elements=["ticket_id"], set_={k: upsert.excluded[k] for k in changed}
            ).returning(ticket_sla.c.ticket_id).cte("stated")
        )
    if stale:
        statement = statement.add_cte(
            sa.delete(sla_timers)
            .where(sla_timers.c.key == sa.any_(
                sa.bindparam("stale", type_=postgresql.ARRAY(sla_timers.c.key.type))
            ))
            .returning(sla_timers.c.key)
            .cte("unset")
        )
    if timers:
        statement = statement.add_cte(_timers_insert(timers))
    if breached:
        statement = statement.add_cte(
            postgresql.insert(breaches)
            .from_select(list(_BREACH_COLUMNS), _rows("b", breaches, _BREACH_COLUMNS, breached))
            .on_conflict_do_nothing(index_elements=["ticket_id", "target"])
            .returning(breaches.c.ticket_id)
            .cte("breached")
        )
    if events:
        statement = statement.add_cte(_outbox_insert(events))
    return statement


# The `.returning(...)` on executemany INSERTs makes SQLAlchemy send one multi-row INSERT
# ("insertmanyvalues") instead of one execution per row.


@lru_cache(maxsize=4)
def _state_upsert(dialect: str):  # type: ignore[no-untyped-def]
    # Built once per dialect: `excluded` walks the table's columns on every build.
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(ticket_sla)
    changed = ("created_at", "policy_id", "state", "updated_at")
    return stmt.on_conflict_do_update(
        index_elements=["ticket_id"], set_={k: stmt.excluded[k] for k in changed}
    ).returning(ticket_sla.c.ticket_id)


async def publish(
    conn: AsyncConnection, events: Sequence[Event], *, at: datetime, causation: str | None = None
) -> None:
    """Queue SLA events in the outbox (the relay publishes after commit)."""
    await add_to_outbox(conn, _envelopes(events, at=at, causation=causation))


def _envelopes(
    events: Sequence[Event], *, at: datetime, causation: str | None
) -> list[Envelope]:
    return [
        new_envelope(
            event,
            source=SOURCE,
            subject=str(getattr(event, type(event).SUBJECT)),
            time=at,
            causationid=causation,
        )
        for event in events
    ]


async def sync_timers_many(
    conn: AsyncConnection,
    wanted: Mapping[uuid.UUID, Sequence[Timer]],
    stored: Mapping[uuid.UUID, Collection[str]] | None = None,
) -> None:
    """Make each ticket's stored timers exactly its `wanted` ones, in a few statements.

    `stored` (the keys stored now, per ticket) spares reading them: a caller holding the
    ticket's locked state knows them, its timers being those `timers_for` that state, less
    the ones the scheduler fired (and deleted).
    """
    if not wanted:
        return
    if stored is None:
        existing = set(
            await conn.scalars(
                sa.select(sla_timers.c.key).where(
                    among(conn, sla_timers.c.ticket_id, list(wanted))
                )
            )
        )
    else:
        existing = {key for ticket_id in wanted for key in stored.get(ticket_id, ())}
    keep = {timer.key for timers in wanted.values() for timer in timers}
    stale = [key for key in existing if key not in keep]
    if stale:
        await conn.execute(sa.delete(sla_timers).where(among(conn, sla_timers.c.key, stale)))
    missing = [
        {
            "key": timer.key,
            "ticket_id": timer.ticket_id,
            "target": timer.target.value,
            "kind": timer.kind.value,
            "generation": timer.generation,
            "due_at": timer.due_at,
        }
        for timers in wanted.values()
        for timer in timers
        if timer.key not in existing
    ]
    if missing:
        await conn.execute(
            insert_ignore(conn, sla_timers, ["key"]).returning(sla_timers.c.key), missing
        )


def timer_of(row: Any) -> Timer:
    """A `Timer` from a `sla_timers` row."""
    return Timer.stored(
        row.key, row.ticket_id, _TARGETS[row.target], _KINDS[row.kind], row.generation,
        as_utc(row.due_at),
    )


# By value: a dict lookup is a fraction of an Enum call, per fired timer.
_TARGETS = {target.value: target for target in Target}
_KINDS = {kind.value: kind for kind in TimerKind}


def among(
    conn: AsyncConnection, column: sa.ColumnElement[Any], values: Sequence[Any]
) -> sa.ColumnElement[bool]:
    """`column IN values`; on PostgreSQL `= ANY` one array parameter.

    An expanding IN renders a typed placeholder per value at every execution (SQLAlchemy's
    bind casts for asyncpg): thousands of renders per second in a burst of fired timers.
    """
    if conn.dialect.name == "postgresql":
        return column == sa.any_(_array(column, values))
    return column.in_(values)


def not_among(
    conn: AsyncConnection, column: sa.ColumnElement[Any], values: Sequence[Any]
) -> sa.ColumnElement[bool]:
    """`column NOT IN values` (of a non-null column); on PostgreSQL `<> ALL` one array."""
    if conn.dialect.name == "postgresql":
        return column != sa.all_(_array(column, values))
    return column.not_in(values)


def _array(column: sa.ColumnElement[Any], values: Sequence[Any]) -> sa.BindParameter[Any]:
    return sa.bindparam(None, list(values), type_=postgresql.ARRAY(column.type))


def as_utc(value: datetime) -> datetime:
    """SQLite returns naive datetimes: they are UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
