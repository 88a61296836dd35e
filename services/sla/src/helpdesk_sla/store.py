"""Reading and writing the sla tables (the adapter around the pure domain)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from helpdesk_businesstime import Calendar
from helpdesk_events.envelope import EVENT_TYPES, Envelope, Event, new_envelope
from helpdesk_events.outbox import add_to_outbox
from helpdesk_events.sla import SlaBreached, Target
from helpdesk_events.tickets import TicketEvent
from helpdesk_runtime.upsert import insert_ignore, upsert
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
    query = sa.select(ticket_sla.c.state).where(ticket_sla.c.ticket_id == ticket_id)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    text = (await conn.execute(query)).scalar_one_or_none()
    return None if text is None else TicketSla.model_validate_json(text)


async def append_history(conn: AsyncConnection, envelope: Envelope) -> None:
    """Keep a ticket event for replays (idempotent by event id)."""
    event = envelope.data
    assert isinstance(event, TicketEvent)
    await conn.execute(
        insert_ignore(conn, ticket_history, ["event_id"]).values(
            event_id=envelope.id,
            ticket_id=event.ticket_id,
            event_type=envelope.type,
            occurred_at=event.occurred_at,
            payload=event.model_dump_json(),
        )
    )


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
) -> None:
    """Persist a decision in the caller's transaction: state, timers, breaches, outbox."""
    now = datetime.now(UTC)
    state = decision.state
    if state is not None:
        await conn.execute(
            upsert(
                conn,
                ticket_sla,
                ["ticket_id"],
                {
                    "ticket_id": state.ticket_id,
                    "created_at": state.facts.created_at,
                    "policy_id": state.policy_id,
                    "state": state.model_dump_json(),
                    "updated_at": now,
                },
            )
        )
    await sync_timers(conn, ticket_id, decision.timers)
    for event in decision.events:
        if isinstance(event, SlaBreached):
            await conn.execute(
                insert_ignore(conn, breaches, ["ticket_id", "target"]).values(
                    ticket_id=event.ticket_id,
                    target=event.target.value,
                    policy_id=state.policy_id if state else "",
                    due_at=event.due_at,
                    breached_at=at,
                    late_by_seconds=event.late_by_seconds,
                    priority=event.priority,
                    team=event.team,
                    escalate=event.escalate,
                )
            )
    await publish(conn, decision.events, at=at, causation=causation)


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


async def sync_timers(conn: AsyncConnection, ticket_id: uuid.UUID, timers: Sequence[Timer]) -> None:
    """Make the ticket's stored timers exactly `timers` (others are stale generations)."""
    keys = [t.key for t in timers]
    await conn.execute(
        sa.delete(sla_timers).where(
            sla_timers.c.ticket_id == ticket_id,
            sla_timers.c.key.not_in(keys) if keys else sa.true(),
        )
    )
    for timer in timers:
        await conn.execute(
            insert_ignore(conn, sla_timers, ["key"]).values(
                key=timer.key,
                ticket_id=timer.ticket_id,
                target=timer.target.value,
                kind=timer.kind.value,
                generation=timer.generation,
                due_at=timer.due_at,
            )
        )


def timer_of(row: Any) -> Timer:
    """A `Timer` from a `sla_timers` row."""
    return Timer(
        ticket_id=row.ticket_id,
        target=Target(row.target),
        kind=TimerKind(row.kind),
        generation=row.generation,
        due_at=as_utc(row.due_at),
    )


def as_utc(value: datetime) -> datetime:
    """SQLite returns naive datetimes: they are UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
