"""Reads: select the rows one KPI computation needs into a `Dataset` (a few indexed queries).

A ticket's `ticket_facts` row is its fact as of any instant after its last event, so a window
reads the rows as they are, except for the tickets touched at or after the window's cutoff
(a past window, `as_of`): those are refolded from their stored events up to the cutoff, with
the same `facts.evolve` the consumer uses. Dimension filters apply to the facts as of the cutoff.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from helpdesk_businesstime import Calendar, CalendarError
from helpdesk_events.tickets import Status

from .dataset import (
    AgentStatusRow,
    AnswerRow,
    CostModel,
    Dataset,
    SlaOutcome,
    SurveySentRow,
    TicketEventRow,
    Window,
)
from .facts import DONE_STATUSES, TicketFact, fold
from .kpis import REPEAT_WINDOW
from .rows import fact_from_row, utc
from .tables import (
    agent_statuses,
    calendars,
    config,
    sla_outcomes,
    survey_answers,
    surveys,
    targets,
    ticket_events,
    ticket_facts,
)

DIMENSIONS = ("team", "agent", "channel", "category", "priority", "tier", "type")
#: Statuses in the backlog (every status of the contract but the done ones).
OPEN_STATUSES = tuple(s.value for s in Status if s.value not in DONE_STATUSES)
_COUNTED_EVENTS = ("helpdesk.ticket.work_logged.v1", "helpdesk.ticket.resolved.v1",
                   "helpdesk.ticket.reopened.v1")


@dataclass(frozen=True)
class Filters:
    """Dimension filters (None: any)."""

    team: str | None = None
    agent: str | None = None
    channel: str | None = None
    category: str | None = None
    priority: str | None = None
    tier: str | None = None
    type: str | None = None

    def items(self) -> list[tuple[str, str]]:
        """The filters that are set."""
        return [(d, v) for d in DIMENSIONS if (v := getattr(self, d)) is not None]

    def matches(self, fact: TicketFact | None, skip: tuple[str, ...] = ()) -> bool:
        """True when the ticket passes every filter (an unknown ticket passes only no filter)."""
        wanted = [(d, v) for d, v in self.items() if d not in skip]
        if not wanted:
            return True
        return fact is not None and all(fact.dimension(d) == v for d, v in wanted)


def _preselect(window: Window) -> sa.CompoundSelect:
    """Ticket ids that can matter to a window (see the KPI conventions).

    A union of one indexed range per reason instead of one OR over the table: at a million
    tickets the OR is a full scan per query.
    """
    f = ticket_facts.c
    lower = window.start - REPEAT_WINDOW
    reasons = (
        f.created_at >= lower,
        f.last_resolved_at >= lower,
        f.change_at >= window.start,
        sa.or_(f.status.is_(None), f.status.in_(OPEN_STATUSES)),
    )
    return sa.union(*(sa.select(f.ticket_id).where(f.created_at < window.stop, reason)
                      for reason in reasons))


def _matching(filters: Filters, skip: tuple[str, ...] = ()) -> list[Any]:
    """`filters` as conditions on ticket_facts (what `Filters.matches` checks on a fact)."""
    f = ticket_facts.c
    out: list[Any] = []
    for name, value in filters.items():
        if name in skip:
            continue
        if name == "tier":
            out.append(f.tier == int(value) if value.isdigit() else sa.false())
        else:
            out.append(f[name] == value)
    return out


async def load_facts(conn: AsyncConnection, window: Window,
                     filters: Filters = Filters()) -> dict[UUID, TicketFact]:
    """The facts matching `filters` of the tickets that can matter to `window`, as of its cutoff."""
    return await _facts(conn, ticket_facts.c.ticket_id.in_(_preselect(window)), window.cutoff,
                        filters)


async def _facts(conn: AsyncConnection, which: Any, cutoff: datetime,
                 filters: Filters = Filters(), skip: tuple[str, ...] = ()) -> dict[UUID, TicketFact]:
    """The facts of the `which` tickets as of `cutoff` that match `filters` (but `skip`).

    A row whose last event is before the cutoff already is the fact as of then (so the
    filters apply in SQL); only the tickets touched since are refolded from their events
    (few, unless the cutoff is old) and filtered here.
    """
    f = ticket_facts.c
    rows = (await conn.execute(sa.select(ticket_facts).where(
        which, sa.or_(f.last_event_at.is_(None), f.last_event_at < cutoff),
        *_matching(filters, skip)))).mappings()
    out = {r["ticket_id"]: fact_from_row(r) for r in rows}
    touched = sa.select(f.ticket_id).where(which, f.last_event_at >= cutoff)
    refolded = await _fold_facts(conn, ticket_events.c.ticket_id.in_(touched), cutoff)
    out.update({tid: fact for tid, fact in refolded.items() if filters.matches(fact, skip)})
    return out


async def _fold_facts(conn: AsyncConnection, which: Any, cutoff: datetime) -> dict[UUID, TicketFact]:
    e = ticket_events.c
    rows = (await conn.execute(
        sa.select(e.ticket_id, e.type, e.data, ticket_facts.c.calendar_id)
        .join(ticket_facts, ticket_facts.c.ticket_id == e.ticket_id)
        .where(which, e.at < cutoff)
        .order_by(e.ticket_id, e.sequence, e.at)
    )).all()
    streams: dict[UUID, list[tuple[str, Mapping[str, Any]]]] = defaultdict(list)
    calendar: dict[UUID, str | None] = {}
    for r in rows:
        streams[r.ticket_id].append((r.type, r.data))
        calendar[r.ticket_id] = r.calendar_id
    return {tid: fold(tid, events, calendar[tid]) for tid, events in streams.items()}


async def _facts_by_id(conn: AsyncConnection, ids: set[UUID], window: Window,
                       filters: Filters = Filters(), skip: tuple[str, ...] = ()) -> dict[UUID, TicketFact]:
    out: dict[UUID, TicketFact] = {}
    chunk = sorted(ids)
    for i in range(0, len(chunk), 500):
        out.update(await _facts(conn, ticket_facts.c.ticket_id.in_(chunk[i:i + 500]),
                                window.cutoff, filters, skip))
    return out


async def load_calendars(conn: AsyncConnection) -> dict[str, Calendar]:
    """Every calendar defined on the sla topic (invalid definitions are skipped)."""
    out: dict[str, Calendar] = {}
    for row in (await conn.execute(sa.select(calendars))).all():
        try:
            out[row.calendar_id] = Calendar.from_dict(row.definition)
        except CalendarError:
            continue
    return out


async def load_config(conn: AsyncConnection, key: str) -> dict[str, Any] | None:
    """A configuration document (cost model, baselines) or None."""
    return await conn.scalar(sa.select(config.c.value).where(config.c.key == key))


async def load_targets(conn: AsyncConnection) -> dict[str, tuple[float, str]]:
    """Targets set through the API: kpi -> (value, direction)."""
    return {r.kpi: (r.value, r.direction) for r in (await conn.execute(sa.select(targets))).all()}


async def load_dataset(conn: AsyncConnection, window: Window, filters: Filters, *,
                       business_hours: bool, default_calendar: Calendar) -> Dataset:
    """Every row the KPIs of `window` read, filtered by `filters`."""
    facts = await load_facts(conn, window, filters)

    events_q = (sa.select(ticket_events.c.ticket_id, ticket_events.c.type, ticket_events.c.at,
                          ticket_events.c.agent, ticket_events.c.seconds, ticket_events.c.kind)
                .where(ticket_events.c.type.in_(_COUNTED_EVENTS),
                       ticket_events.c.at >= window.start, ticket_events.c.at < window.stop))
    event_rows = (await conn.execute(events_q)).all()
    sla_rows = (await conn.execute(sa.select(sla_outcomes).where(
        sla_outcomes.c.at >= window.start, sla_outcomes.c.at < window.stop))).all()
    sent_rows = (await conn.execute(sa.select(surveys).where(
        surveys.c.sent_at >= window.start, surveys.c.sent_at < window.stop))).all()
    answer_rows = (await conn.execute(sa.select(survey_answers).where(
        survey_answers.c.at >= window.start, survey_answers.c.at < window.stop))).all()

    # The matching facts of every ticket an event row of the window refers to.
    matching = dict(facts)
    # Work counts for the agent who logged it: the ticket need only match the other filters.
    worked: dict[UUID, TicketFact] = {}
    # Surveys of tickets that exist but do not match; a survey of an unknown ticket is
    # judged by its own agent and team.
    other_surveyed: dict[UUID, TicketFact] = {}
    if filters.items():
        surveyed = {r.ticket_id for r in (*sent_rows, *answer_rows) if r.ticket_id is not None}
        wanted = {r.ticket_id for r in (*event_rows, *sla_rows)} | surveyed
        matching.update(await _facts_by_id(conn, wanted - set(matching), window, filters))
        other_surveyed = await _facts_by_id(conn, surveyed - set(matching), window)
        if filters.agent is not None:
            work = {r.ticket_id for r in event_rows
                    if r.type == "helpdesk.ticket.work_logged.v1" and r.agent == filters.agent}
            worked = await _facts_by_id(conn, work, window, filters, skip=("agent",))

    def ticket_ok(tid: UUID | None) -> bool:
        return not filters.items() or tid in matching

    def work_ok(tid: UUID) -> bool:
        return tid in worked if filters.agent is not None else ticket_ok(tid)

    def survey_ok(tid: UUID | None, agent: str | None, team: str | None) -> bool:
        if tid is not None and (tid in matching or tid in other_surveyed):
            return ticket_ok(tid)
        own = {"agent": agent, "team": team}
        return all(own.get(d, "\0") == v for d, v in filters.items())

    events = []
    for r in event_rows:
        if r.type == "helpdesk.ticket.work_logged.v1":
            # Work counts for the agent who logged it, on tickets matching the other filters.
            if filters.agent is not None and r.agent != filters.agent:
                continue
            if not work_ok(r.ticket_id):
                continue
        elif not ticket_ok(r.ticket_id):
            continue
        events.append(TicketEventRow(r.ticket_id, r.type, utc(r.at), r.agent, r.seconds, r.kind))  # type: ignore[arg-type]

    statuses_q = sa.select(agent_statuses).where(agent_statuses.c.at < window.stop)
    if filters.agent is not None:
        statuses_q = statuses_q.where(agent_statuses.c.agent_id == filters.agent)
    statuses = [AgentStatusRow(r.agent_id, r.status, utc(r.at), tuple(r.teams or ()), r.hourly_cost)  # type: ignore[arg-type]
                for r in (await conn.execute(statuses_q)).all()
                if filters.team is None or filters.team in (r.teams or ())]

    cost_doc = await load_config(conn, "cost_model") or {}
    agent_costs = {s.agent_id: s.hourly_cost for s in sorted(statuses, key=lambda s: s.at)
                   if s.hourly_cost is not None}
    agent_costs.update(cost_doc.get("agent_costs") or {})
    cost = CostModel(**{**{k: v for k, v in cost_doc.items() if k != "agent_costs"},
                        "agent_costs": agent_costs})

    return Dataset(
        facts=tuple(facts.values()),
        events=tuple(events),
        sla=tuple(SlaOutcome(r.ticket_id, r.target, r.outcome, utc(r.at))  # type: ignore[arg-type]
                  for r in sla_rows if ticket_ok(r.ticket_id)),
        sent=tuple(SurveySentRow(r.survey_id, utc(r.sent_at), r.ticket_id, r.agent, r.team,  # type: ignore[arg-type]
                                 utc(r.answered_at))
                   for r in sent_rows if survey_ok(r.ticket_id, r.agent, r.team)),
        answers=tuple(AnswerRow(r.survey_id, r.kind, r.score, r.scale_min, r.scale_max,
                                utc(r.at), r.ticket_id, r.agent, r.team)  # type: ignore[arg-type]
                      for r in answer_rows if survey_ok(r.ticket_id, r.agent, r.team)
                      and utc(r.at) <= window.cutoff),  # type: ignore[operator]
        agent_statuses=tuple(statuses),
        calendars=await load_calendars(conn),
        default_calendar=default_calendar,
        cost=cost,
        business_hours=business_hours,
    )
