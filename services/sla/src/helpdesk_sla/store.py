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
from helpdesk_events.outbox import add_to_outbox
from helpdesk_events.sla import SlaBreached, Target
from helpdesk_events.tickets import TicketEvent
from helpdesk_runtime.upsert import insert_ignore, insert_row_ignoring
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from .domain.policies import DEFAULT_CALENDAR_ID, Policy, SlaConfig, default_calendar
from .domain.state import Decision, TicketSla, Timer, TimerKind
from .tables import breaches, calendars, policies, sla_timers, ticket_history, ticket_sla

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
    return SlaConfig(
        policies=tuple(await load_policies(conn)), calendars=await load_calendars(conn)
    )


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
    event = envelope.data
    assert isinstance(event, TicketEvent)
    await insert_row_ignoring(conn, ticket_history, ["event_id"], {
        "event_id": envelope.id,
        "ticket_id": event.ticket_id,
        "event_type": envelope.type,
        "occurred_at": event.occurred_at,
        "payload": event.model_dump_json(),
    })


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
) -> None:
    """Persist a decision in the caller's transaction: state, timers, breaches, outbox.

    `stored`: the keys of the ticket's stored timers when the caller knows them (else read).
    """
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
    states = [
        {
            "ticket_id": d.state.ticket_id,
            "created_at": d.state.facts.created_at,
            "policy_id": d.state.policy_id,
            "state": d.state.model_dump_json(),
            "updated_at": now,
        }
        for _, d in decisions
        if d.state is not None
    ]
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
    envelopes = [
        new_envelope(
            event,
            source=SOURCE,
            subject=str(getattr(event, type(event).SUBJECT)),
            time=at,
            causationid=causation,
        )
        for event in events
    ]
    await add_to_outbox(conn, envelopes)


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
