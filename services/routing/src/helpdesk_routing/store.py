"""Reading and writing routing's tables, to and from the domain's values."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from helpdesk_events.routing import AgentStatus, Strategy
from helpdesk_runtime.txmemo import kept_for_transaction, once_per_transaction
from helpdesk_runtime.upsert import insert_row_ignoring, upsert_row

from .domain.decide import RoutingState
from .domain.model import (
    ASSIGNED,
    QUEUED,
    Agent,
    Condition,
    Rule,
    Team,
    TicketFacts,
    TicketView,
    Workload,
    WorkingSpan,
)
from .tables import agents, early_escalations, rules, teams, tickets

#: Any 64-bit constant: the key of the advisory lock that serialises routing decisions.
_LOCK_KEY = 0x726F75746E67

# Statements built once, values passed as parameters: building one per call (and SQLAlchemy
# walking its cache key) cost routing more CPU than executing it.
_LOCK = sa.text("SELECT pg_advisory_xact_lock(:key)")
_GET_TICKET = sa.select(tickets).where(tickets.c.ticket_id == sa.bindparam("ticket_id"))
_QUEUE = (
    sa.select(tickets).where(tickets.c.team == sa.bindparam("team_id"), tickets.c.state == QUEUED)
    .order_by(tickets.c.queued_at, tickets.c.ticket_id)
)
_OPEN_BY_AGENT = (
    sa.select(tickets.c.agent, sa.func.count())
    .where(tickets.c.state == ASSIGNED, tickets.c.agent.is_not(None))
    .group_by(tickets.c.agent)
)
_CURSORS = sa.select(teams.c.id, teams.c.cursor).where(teams.c.cursor.is_not(None))
_SET_CURSOR = (
    sa.update(teams).where(teams.c.id == sa.bindparam("team_id")).values(cursor=sa.bindparam("agent_id"))
)
_ANY_EARLY = sa.select(early_escalations.c.event_id).limit(1)
_EARLY = sa.select(early_escalations).where(early_escalations.c.ticket_id == sa.bindparam("ticket_id"))
_FORGET_EARLY = sa.delete(early_escalations).where(early_escalations.c.ticket_id == sa.bindparam("ticket_id"))
_TEAMS = sa.select(teams)
_AGENTS = sa.select(agents)
_RULES = sa.select(rules).order_by(rules.c.position, rules.c.id)


@dataclass
class _Seen:
    """What this transaction read or wrote of the tickets and cursors, kept in step with its writes.

    Every write to `tickets` goes through `save_ticket` and every cursor write through
    `save_cursors`, and deciding transactions hold the decision lock: so the views and the
    workload kept here are what reading the tables again would return.
    """

    #: Ticket id -> its view (None: the ticket is not known), as last read or written.
    views: dict[uuid.UUID, TicketView | None] = field(default_factory=dict)
    #: Open tickets per agent; None until read (or after a write it could not follow).
    open_by_agent: dict[str, int] | None = None
    cursors: dict[str, str] | None = None
    #: Whether early_escalations may hold rows (None until asked): most batches have none.
    any_early: bool | None = None


async def _seen(conn: AsyncConnection) -> _Seen:
    return kept_for_transaction(conn, "routing.seen", _Seen)


async def lock_decisions(conn: AsyncConnection) -> None:
    """Serialise deciding transactions (capacity is checked, then taken: no two at once).

    On PostgreSQL a transaction-scoped advisory lock, taken once per transaction (it is
    held to the end of it); SQLite transactions already start with BEGIN IMMEDIATE, so
    writers queue on the database lock.
    """
    if conn.dialect.name == "postgresql":
        async def lock() -> bool:
            await conn.execute(_LOCK, {"key": _LOCK_KEY})
            return True
        await once_per_transaction(conn, "routing.decision_lock", lock)


def team_of(row: Any) -> Team:
    """A Team from its row."""
    return Team(
        id=row.id, name=row.name, tier=row.tier, categories=tuple(row.categories),
        skills=tuple(row.skills), languages=tuple(row.languages), strategy=Strategy(row.strategy),
    )


def agent_of(row: Any) -> Agent:
    """An Agent from its row."""
    return Agent(
        id=row.id, name=row.name, teams=tuple(row.teams), tier=row.tier, capacity=row.capacity,
        skills=tuple(row.skills), languages=tuple(row.languages), hourly_cost=row.hourly_cost,
        status=AgentStatus(row.status),
        schedule=tuple(WorkingSpan(**span) for span in row.schedule),
    )


def rule_of(row: Any) -> Rule:
    """A Rule from its row."""
    return Rule(
        id=row.id, position=row.position, team=row.team,
        conditions=tuple(
            Condition(field=c["field"], op=c["op"],
                      value=c["value"] if isinstance(c["value"], str) else tuple(c["value"]))
            for c in row.conditions
        ),
        tier=row.tier, strategy=Strategy(row.strategy) if row.strategy else None,
        priority=row.priority, skills=tuple(row.skills), enabled=row.enabled,
    )


def _facts_of(ticket_id: uuid.UUID, facts: dict[str, Any]) -> TicketFacts:
    return TicketFacts(ticket_id=ticket_id, **{**facts, "tags": tuple(facts.get("tags", ()))})


def view_of(row: Any) -> TicketView:
    """A TicketView from its row."""
    return TicketView(
        facts=_facts_of(row.ticket_id, row.facts), state=row.state, tier=row.tier, team=row.team,
        agent=row.agent, strategy=Strategy(row.strategy) if row.strategy else None, rule=row.rule,
        skills=tuple(row.skills), queued_at=utc(row.queued_at),
    )


async def workload(conn: AsyncConnection) -> Workload:
    """Open tickets per agent and the teams' round-robin cursors."""
    seen = await _seen(conn)
    if seen.open_by_agent is None:
        seen.open_by_agent = {a: n for a, n in (await conn.execute(_OPEN_BY_AGENT)).all()}
    if seen.cursors is None:
        seen.cursors = {t: c for t, c in (await conn.execute(_CURSORS)).all()}
    # Copies: the kept dicts follow later writes, a state handed out must not.
    return Workload(open_by_agent=dict(seen.open_by_agent), cursors=dict(seen.cursors))


@dataclass(frozen=True)
class _Registry:
    teams: Mapping[str, Team]
    agents: Mapping[str, Agent]
    rules: Sequence[Rule]


async def _read_registry(conn: AsyncConnection) -> _Registry:
    team_rows = (await conn.execute(_TEAMS)).all()
    seen = await _seen(conn)
    if seen.cursors is None:  # the rows carry the cursors: no second query for the workload
        seen.cursors = {r.id: r.cursor for r in team_rows if r.cursor is not None}
    agent_rows = (await conn.execute(_AGENTS)).all()
    rule_rows = (await conn.execute(_RULES)).all()
    return _Registry(
        teams={r.id: team_of(r) for r in team_rows},
        agents={r.id: agent_of(r) for r in agent_rows},
        rules=[rule_of(r) for r in rule_rows],
    )


async def load_state(conn: AsyncConnection, *, registry_once: bool = False) -> RoutingState:
    """The registry, rules and workload as the domain sees them.

    With `registry_once` the teams, agents and rules are read once per transaction (event
    handlers, which never write them); callers that change the registry read it afresh.
    The teams' cursors belong to the workload, which always follows this transaction's writes.
    """
    if registry_once:
        registry = await once_per_transaction(conn, "routing.registry", lambda: _read_registry(conn))
    else:
        registry = await _read_registry(conn)
    return RoutingState(
        teams=registry.teams, agents=registry.agents, rules=registry.rules, workload=await workload(conn),
    )


async def get_ticket(conn: AsyncConnection, ticket_id: uuid.UUID) -> TicketView | None:
    """Routing's view of one ticket, if it knows the ticket."""
    seen = await _seen(conn)
    if ticket_id in seen.views:
        return seen.views[ticket_id]
    row = (await conn.execute(_GET_TICKET, {"ticket_id": ticket_id})).first()
    view = view_of(row) if row is not None else None
    seen.views[ticket_id] = view
    return view


def _count_open(counts: dict[str, int], view: TicketView | None, step: int) -> None:
    if view is not None and view.state == ASSIGNED and view.agent is not None:
        left = counts.get(view.agent, 0) + step
        if left > 0:
            counts[view.agent] = left
        else:
            counts.pop(view.agent, None)


def _row_of(view: TicketView) -> dict[str, Any]:
    facts = {
        "subject": view.facts.subject, "channel": view.facts.channel, "type": view.facts.type,
        "priority": view.facts.priority, "category": view.facts.category,
        "language": view.facts.language, "affected_service": view.facts.affected_service,
        "requester_org": view.facts.requester_org, "tags": list(view.facts.tags),
    }
    return {
        "ticket_id": view.facts.ticket_id, "facts": facts, "state": view.state, "tier": view.tier,
        "team": view.team, "agent": view.agent,
        "strategy": view.strategy.value if view.strategy else None, "rule": view.rule,
        "skills": list(view.skills), "queued_at": view.queued_at,
    }


async def save_ticket(conn: AsyncConnection, view: TicketView) -> None:
    """Insert or replace the view of one ticket."""
    seen = await _seen(conn)
    ticket_id = view.facts.ticket_id
    if seen.open_by_agent is not None:
        if ticket_id in seen.views:
            _count_open(seen.open_by_agent, seen.views[ticket_id], -1)
            _count_open(seen.open_by_agent, view, +1)
        else:
            seen.open_by_agent = None  # the row's previous state is unknown: count again
    seen.views[ticket_id] = view
    await upsert_row(conn, tickets, ["ticket_id"], _row_of(view))


async def add_ticket(conn: AsyncConnection, view: TicketView) -> bool:
    """Insert the view of a ticket routing does not know yet; False (and no change) if it does."""
    seen = await _seen(conn)
    ticket_id = view.facts.ticket_id
    if seen.views.get(ticket_id) is not None:
        return False
    # One statement instead of a SELECT then an INSERT: the conflict tells whether it existed.
    if (await insert_row_ignoring(conn, tickets, ["ticket_id"], _row_of(view))).rowcount != 1:
        return False
    if seen.open_by_agent is not None:
        _count_open(seen.open_by_agent, view, +1)
    seen.views[ticket_id] = view
    return True


async def early_escalations_of(conn: AsyncConnection, ticket_id: uuid.UUID) -> list[Any]:
    """Escalation requests recorded before the ticket existed (rows: event_id, reason)."""
    seen = await _seen(conn)
    if seen.any_early is None:
        seen.any_early = (await conn.execute(_ANY_EARLY)).first() is not None
    if not seen.any_early:
        return []
    return list((await conn.execute(_EARLY, {"ticket_id": ticket_id})).all())


async def add_early_escalation(conn: AsyncConnection, event_id: uuid.UUID, ticket_id: uuid.UUID,
                               reason: str) -> None:
    """Keep an escalation request for a ticket routing does not know yet."""
    seen = await _seen(conn)
    seen.any_early = True
    await insert_row_ignoring(conn, early_escalations, ["event_id"],
                              {"event_id": event_id, "ticket_id": ticket_id, "reason": reason})


async def forget_early_escalations(conn: AsyncConnection, ticket_id: uuid.UUID) -> None:
    """Drop the ticket's early escalation requests once applied."""
    await conn.execute(_FORGET_EARLY, {"ticket_id": ticket_id})


async def queue(conn: AsyncConnection, team_id: str) -> list[TicketView]:
    """The team's waiting tickets, oldest first."""
    seen = await _seen(conn)
    waiting = [view_of(r) for r in (await conn.execute(_QUEUE, {"team_id": team_id})).all()]
    seen.views.update((v.facts.ticket_id, v) for v in waiting)
    return waiting


async def save_cursors(conn: AsyncConnection, before: Workload, after: Workload) -> None:
    """Persist the round-robin cursors that moved."""
    moved = [(t, a) for t, a in after.cursors.items() if before.cursors.get(t) != a]
    if not moved:
        return
    seen = await _seen(conn)
    for team_id, agent_id in moved:
        await conn.execute(_SET_CURSOR, {"team_id": team_id, "agent_id": agent_id})
        if seen.cursors is not None:
            seen.cursors[team_id] = agent_id


def utc(value: datetime | None) -> datetime | None:
    """Naive datetimes (SQLite) are UTC."""
    return value if value is None or value.tzinfo else value.replace(tzinfo=timezone.utc)
