"""Events in: fold each event of the four topics into metrics' projections.

Runs inside the inbox transaction (a redelivered event never reaches it). Every write is
keyed by the event or by its natural id, and rows of one topic never wait for another
topic's rows, so events of different topics may arrive in any order.
"""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from helpdesk_events.envelope import Envelope
from helpdesk_events.routing import AgentStatusChanged
from helpdesk_events.sla import CalendarDefined, ClockStarted, SlaBreached, SlaMet
from helpdesk_events.surveys import SurveyResponded, SurveySent
from helpdesk_events.tickets import TicketEvent, WorkLogged
from helpdesk_runtime.upsert import insert_ignore, upsert

from .facts import TicketFact, evolve, fold
from .rows import fact_from_row, fact_values, utc
from .tables import (
    agent_statuses,
    calendars,
    sla_outcomes,
    survey_answers,
    surveys,
    ticket_events,
    ticket_facts,
)


async def handle(conn: AsyncConnection, envelope: Envelope) -> None:
    """Apply one event from any topic; events metrics does not use are recorded and skipped."""
    event = envelope.data
    if isinstance(event, TicketEvent):
        await _ticket_event(conn, envelope, event)
    elif isinstance(event, ClockStarted):
        await conn.execute(upsert(conn, ticket_facts, ["ticket_id"],
                                  {"ticket_id": event.ticket_id, "calendar_id": event.calendar}))
    elif isinstance(event, SlaMet):
        await _sla_outcome(conn, envelope.id, event.ticket_id, event.target.value, "met", event.met_at)
    elif isinstance(event, SlaBreached):
        # The breach happened at the due time (detection may lag): stable across replays.
        await _sla_outcome(conn, envelope.id, event.ticket_id, event.target.value, "breached",
                           event.due_at)
    elif isinstance(event, CalendarDefined):
        await _calendar(conn, envelope, event)
    elif isinstance(event, SurveySent):
        await _survey_sent(conn, envelope, event)
    elif isinstance(event, SurveyResponded):
        await _survey_responded(conn, envelope, event)
    elif isinstance(event, AgentStatusChanged):
        await conn.execute(insert_ignore(conn, agent_statuses, ["event_id"]).values(
            event_id=envelope.id, agent_id=event.agent_id, status=event.status.value,
            at=utc(envelope.time), teams=list(event.teams), hourly_cost=event.hourly_cost))


async def _ticket_event(conn: AsyncConnection, envelope: Envelope, event: TicketEvent) -> None:
    data = event.model_dump(mode="json")
    latest = await conn.scalar(sa.select(sa.func.max(ticket_events.c.sequence))
                               .where(ticket_events.c.ticket_id == event.ticket_id))
    inserted = await conn.execute(insert_ignore(conn, ticket_events, ["event_id"]).values(
        event_id=envelope.id, ticket_id=event.ticket_id, sequence=envelope.sequence,
        at=utc(event.occurred_at), type=envelope.type,
        agent=event.agent if isinstance(event, WorkLogged) else None,
        seconds=event.seconds if isinstance(event, WorkLogged) else None,
        kind=event.kind.value if isinstance(event, WorkLogged) else None,
        data=data))
    if inserted.rowcount == 0:
        return
    row = (await conn.execute(sa.select(ticket_facts).where(
        ticket_facts.c.ticket_id == event.ticket_id))).mappings().first()
    current = fact_from_row(row) if row is not None else TicketFact(ticket_id=event.ticket_id)
    late = envelope.sequence is not None and latest is not None and envelope.sequence < latest
    # An event older than one already applied: refold the stream in order instead.
    fact = (await refold(conn, event.ticket_id, current.calendar_id) if late
            else evolve(current, envelope.type, data))
    await conn.execute(upsert(conn, ticket_facts, ["ticket_id"],
                              {"ticket_id": event.ticket_id, **fact_values(fact)}))


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


async def _sla_outcome(conn: AsyncConnection, event_id: UUID, ticket_id: UUID, target: str,
                       outcome: str, at: object) -> None:
    await conn.execute(insert_ignore(conn, sla_outcomes, ["event_id"]).values(
        event_id=event_id, ticket_id=ticket_id, target=target, outcome=outcome, at=utc(at)))  # type: ignore[arg-type]


async def _calendar(conn: AsyncConnection, envelope: Envelope, event: CalendarDefined) -> None:
    at = utc(envelope.time)
    known = await conn.scalar(sa.select(calendars.c.defined_at)
                              .where(calendars.c.calendar_id == event.calendar_id))
    if known is not None and utc(known) > at:  # type: ignore[operator]
        return  # a newer definition already arrived
    definition = event.model_dump(mode="json", include={
        "name", "time_zone", "weekly_hours", "holidays", "country", "subdivision"})
    await conn.execute(upsert(conn, calendars, ["calendar_id"], {
        "calendar_id": event.calendar_id, "definition": definition, "defined_at": at}))


async def _survey_sent(conn: AsyncConnection, envelope: Envelope, event: SurveySent) -> None:
    if event.reminder:
        return
    values = {"survey_id": event.survey_id, "ticket_id": event.ticket_id,
              "sent_at": utc(envelope.time), "agent": event.agent_id, "team": event.team}
    await conn.execute(upsert(conn, surveys, ["survey_id"],
                              {k: v for k, v in values.items() if v is not None}))


async def _survey_responded(conn: AsyncConnection, envelope: Envelope, event: SurveyResponded) -> None:
    at = utc(envelope.time)
    values = {"survey_id": event.survey_id, "ticket_id": event.ticket_id, "answered_at": at,
              "agent": event.agent_id, "team": event.team}
    await conn.execute(upsert(conn, surveys, ["survey_id"],
                              {k: v for k, v in values.items() if v is not None}))
    for answer in event.answers:
        await conn.execute(insert_ignore(conn, survey_answers, ["survey_id", "kind"]).values(
            survey_id=event.survey_id, kind=answer.kind.value, score=answer.score,
            scale_min=answer.scale_min, scale_max=answer.scale_max, at=at,
            ticket_id=event.ticket_id, agent=event.agent_id, team=event.team))
