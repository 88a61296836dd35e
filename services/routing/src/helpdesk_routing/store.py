"""Reading and writing routing's tables, to and from the domain's values."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from helpdesk_events.routing import AgentStatus, Strategy
from helpdesk_runtime.upsert import upsert_row

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
from .tables import agents, rules, teams, tickets

#: Any 64-bit constant: the key of the advisory lock that serialises routing decisions.
_LOCK_KEY = 0x726F75746E67


async def lock_decisions(conn: AsyncConnection) -> None:
    """Serialise deciding transactions (capacity is checked, then taken: no two at once).

    On PostgreSQL a transaction-scoped advisory lock; SQLite transactions already start
    with BEGIN IMMEDIATE, so writers queue on the database lock.
    """
    if conn.dialect.name == "postgresql":
        await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})


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
    counts = await conn.execute(
        sa.select(tickets.c.agent, sa.func.count())
        .where(tickets.c.state == ASSIGNED, tickets.c.agent.is_not(None))
        .group_by(tickets.c.agent)
    )
    cursors = await conn.execute(sa.select(teams.c.id, teams.c.cursor).where(teams.c.cursor.is_not(None)))
    return Workload(open_by_agent={a: n for a, n in counts.all()}, cursors={t: c for t, c in cursors.all()})


async def load_state(conn: AsyncConnection) -> RoutingState:
    """The registry, rules and workload as the domain sees them."""
    team_rows = (await conn.execute(sa.select(teams))).all()
    agent_rows = (await conn.execute(sa.select(agents))).all()
    rule_rows = (await conn.execute(sa.select(rules).order_by(rules.c.position, rules.c.id))).all()
    return RoutingState(
        teams={r.id: team_of(r) for r in team_rows},
        agents={r.id: agent_of(r) for r in agent_rows},
        rules=[rule_of(r) for r in rule_rows],
        workload=await workload(conn),
    )


async def get_ticket(conn: AsyncConnection, ticket_id: uuid.UUID) -> TicketView | None:
    """Routing's view of one ticket, if it knows the ticket."""
    row = (await conn.execute(sa.select(tickets).where(tickets.c.ticket_id == ticket_id))).first()
    return view_of(row) if row is not None else None


async def save_ticket(conn: AsyncConnection, view: TicketView) -> None:
    """Insert or replace the view of one ticket."""
    facts = {
        "subject": view.facts.subject, "channel": view.facts.channel, "type": view.facts.type,
        "priority": view.facts.priority, "category": view.facts.category,
        "language": view.facts.language, "affected_service": view.facts.affected_service,
        "requester_org": view.facts.requester_org, "tags": list(view.facts.tags),
    }
    await upsert_row(conn, tickets, ["ticket_id"], {
        "ticket_id": view.facts.ticket_id, "facts": facts, "state": view.state, "tier": view.tier,
        "team": view.team, "agent": view.agent,
        "strategy": view.strategy.value if view.strategy else None, "rule": view.rule,
        "skills": list(view.skills), "queued_at": view.queued_at,
    })


async def queue(conn: AsyncConnection, team_id: str) -> list[TicketView]:
    """The team's waiting tickets, oldest first."""
    rows = await conn.execute(
        sa.select(tickets).where(tickets.c.team == team_id, tickets.c.state == QUEUED)
        .order_by(tickets.c.queued_at, tickets.c.ticket_id)
    )
    return [view_of(r) for r in rows.all()]


async def save_cursors(conn: AsyncConnection, before: Workload, after: Workload) -> None:
    """Persist the round-robin cursors that moved."""
    for team_id, agent_id in after.cursors.items():
        if before.cursors.get(team_id) != agent_id:
            await conn.execute(sa.update(teams).where(teams.c.id == team_id).values(cursor=agent_id))


def utc(value: datetime | None) -> datetime | None:
    """Naive datetimes (SQLite) are UTC."""
    return value if value is None or value.tzinfo else value.replace(tzinfo=timezone.utc)
