"""Routing's REST surface: registry, rules, preview, transfers and a ticket's decisions."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request, Response

from helpdesk_events.envelope import new_envelope
from helpdesk_events.outbox import add_to_outbox
from helpdesk_events.routing import AgentStatus, AgentStatusChanged
from helpdesk_runtime.auth import CurrentPrincipal
from helpdesk_runtime.problems import Problem, field_error
from helpdesk_runtime.upsert import upsert

from . import access, store
from .domain.conditions import condition_errors
from .domain.decide import TransferRefused, decide_transfer, preview
from .domain.model import ASSIGNED, QUEUED, TicketFacts
from .schemas import (
    AgentIn,
    AgentOut,
    DecisionOut,
    PreviewIn,
    PreviewOut,
    RuleIn,
    RuleOut,
    StatusIn,
    TeamIn,
    TeamOut,
    TicketRoutingOut,
    TransferIn,
)
from .service import SOURCE, drain, publish, teams_of_agent
from .tables import agents, decisions, rules, teams, tickets

router = APIRouter(prefix="/v1", dependencies=[access.STAFF])
_EXISTS: dict[int | str, dict[str, Any]] = {409: {"description": "The id exists; PUT replaces it"}}


def _runtime(request: Request) -> Any:
    return request.app.state.runtime


def _not_found(kind: str, key: object) -> Problem:
    return Problem(404, "Not found", f"No {kind} {key}.")


# --- teams --------------------------------------------------------------------------------


def _team_values(body: TeamIn) -> dict[str, Any]:
    return {**body.model_dump(mode="json"), "strategy": body.strategy.value}


async def _team_out(conn: Any, rows: list[Any]) -> list[TeamOut]:
    counts = dict((await conn.execute(
        sa.select(tickets.c.team, sa.func.count()).where(tickets.c.state == QUEUED).group_by(tickets.c.team)
    )).all())
    return [TeamOut(**store.team_of(r).__dict__, queued=counts.get(r.id, 0)) for r in rows]


@router.get("/teams", response_model=list[TeamOut], tags=["registry"], summary="List teams")
async def list_teams(request: Request) -> list[TeamOut]:
    async with _runtime(request).reader.connect() as conn:
        rows = (await conn.execute(sa.select(teams).order_by(teams.c.tier, teams.c.id))).all()
        return await _team_out(conn, rows)


@router.post("/teams", response_model=TeamOut, status_code=201, tags=["registry"], summary="Create a team",
             dependencies=[access.MANAGE], responses=_EXISTS)
async def create_team(body: TeamIn, request: Request, response: Response,
                      principal: CurrentPrincipal) -> TeamOut:
    access.check_teams(principal, [body.id])
    async with _runtime(request).engine.begin() as conn:
        if (await conn.execute(sa.select(teams.c.id).where(teams.c.id == body.id))).first():
            raise Problem(409, "Conflict", f"Team {body.id} exists; use PUT to replace it.")
        await conn.execute(sa.insert(teams).values(**_team_values(body)))
    response.headers["Location"] = f"/v1/teams/{body.id}"
    return TeamOut(**body.model_dump())


@router.get("/teams/{team_id}", response_model=TeamOut, tags=["registry"], summary="One team")
async def get_team(team_id: str, request: Request) -> TeamOut:
    async with _runtime(request).reader.connect() as conn:
        rows = (await conn.execute(sa.select(teams).where(teams.c.id == team_id))).all()
        if not rows:
            raise _not_found("team", team_id)
        return (await _team_out(conn, rows))[0]


@router.put("/teams/{team_id}", response_model=TeamOut, tags=["registry"], summary="Create or replace a team",
            dependencies=[access.MANAGE])
async def put_team(team_id: str, body: TeamIn, request: Request, principal: CurrentPrincipal) -> TeamOut:
    access.check_teams(principal, [team_id])
    if body.id != team_id:
        raise Problem(422, "Validation failed", "The body's id differs from the path's.",
                      errors=[field_error("id", "must equal the id in the path")])
    runtime = _runtime(request)
    async with runtime.engine.begin() as conn:
        await store.lock_decisions(conn)
        await conn.execute(upsert(conn, teams, ["id"], _team_values(body)))
        state = await store.load_state(conn)
        await drain(conn, state, [team_id], datetime.now(timezone.utc))
    runtime.wake_relay()
    return TeamOut(**body.model_dump())


@router.delete("/teams/{team_id}", status_code=204, tags=["registry"], summary="Delete a team no rule uses",
               dependencies=[access.MANAGE],
               responses={409: {"description": "Rules still route to the team"}})
async def delete_team(team_id: str, request: Request, principal: CurrentPrincipal) -> Response:
    access.check_teams(principal, [team_id])
    async with _runtime(request).engine.begin() as conn:
        if not (await conn.execute(sa.select(teams.c.id).where(teams.c.id == team_id))).first():
            raise _not_found("team", team_id)
        used = (await conn.execute(sa.select(rules.c.id).where(rules.c.team == team_id))).scalars().all()
        if used:
            raise Problem(409, "Team in use", f"Rules {', '.join(sorted(used))} route to {team_id}; "
                          "change or delete them first.", rules=sorted(used))
        await conn.execute(sa.delete(teams).where(teams.c.id == team_id))
    return Response(status_code=204)


# --- agents -------------------------------------------------------------------------------


async def _check_teams(conn: Any, names: list[str]) -> None:
    known = set((await conn.execute(sa.select(teams.c.id).where(teams.c.id.in_(names)))).scalars())
    errors = [field_error(f"teams.{i}", f"unknown team {n!r}", "unknown_team")
              for i, n in enumerate(names) if n not in known]
    if errors:
        raise Problem(422, "Validation failed", "Some teams do not exist.", errors=errors)


def _agent_values(body: AgentIn) -> dict[str, Any]:
    return {**body.model_dump(mode="json")}


async def _agent_out(conn: Any, rows: list[Any]) -> list[AgentOut]:
    load = await store.workload(conn)
    return [AgentOut(**{**r._mapping, "open_tickets": load.load(r.id)}) for r in rows]


@router.get("/agents", response_model=list[AgentOut], tags=["registry"], summary="List agents")
async def list_agents(request: Request, team: str | None = None) -> list[AgentOut]:
    async with _runtime(request).reader.connect() as conn:
        rows = (await conn.execute(sa.select(agents).order_by(agents.c.id))).all()
        if team is not None:
            rows = [r for r in rows if team in r.teams]
        return await _agent_out(conn, rows)


@router.post("/agents", response_model=AgentOut, status_code=201, tags=["registry"], summary="Create an agent",
             dependencies=[access.MANAGE], responses=_EXISTS)
async def create_agent(body: AgentIn, request: Request, response: Response,
                       principal: CurrentPrincipal) -> AgentOut:
    access.check_teams(principal, body.teams)
    runtime = _runtime(request)
    async with runtime.engine.begin() as conn:
        await store.lock_decisions(conn)
        if (await conn.execute(sa.select(agents.c.id).where(agents.c.id == body.id))).first():
            raise Problem(409, "Conflict", f"Agent {body.id} exists; use PUT to replace it.")
        await _check_teams(conn, body.teams)
        await conn.execute(sa.insert(agents).values(**_agent_values(body)))
        await _after_agent_change(conn, body, None)
    runtime.wake_relay()
    response.headers["Location"] = f"/v1/agents/{body.id}"
    return AgentOut(**body.model_dump())


@router.get("/agents/{agent_id}", response_model=AgentOut, tags=["registry"], summary="One agent")
async def get_agent(agent_id: str, request: Request) -> AgentOut:
    async with _runtime(request).reader.connect() as conn:
        rows = (await conn.execute(sa.select(agents).where(agents.c.id == agent_id))).all()
        if not rows:
            raise _not_found("agent", agent_id)
        return (await _agent_out(conn, rows))[0]


@router.put("/agents/{agent_id}", response_model=AgentOut, tags=["registry"], summary="Create or replace an agent",
            dependencies=[access.MANAGE])
async def put_agent(agent_id: str, body: AgentIn, request: Request, principal: CurrentPrincipal) -> AgentOut:
    access.check_teams(principal, body.teams)
    if body.id != agent_id:
        raise Problem(422, "Validation failed", "The body's id differs from the path's.",
                      errors=[field_error("id", "must equal the id in the path")])
    runtime = _runtime(request)
    async with runtime.engine.begin() as conn:
        await store.lock_decisions(conn)
        await _check_teams(conn, body.teams)
        access.check_teams(principal, await conn.scalar(sa.select(agents.c.teams).where(agents.c.id == agent_id)) or [])
        before = (await conn.execute(sa.select(agents.c.status).where(agents.c.id == agent_id))).scalar()
        await conn.execute(upsert(conn, agents, ["id"], _agent_values(body)))
        await _after_agent_change(conn, body, AgentStatus(before) if before else None)
        load = await store.workload(conn)
    runtime.wake_relay()
    return AgentOut(**body.model_dump(), open_tickets=load.load(agent_id))


async def _after_agent_change(conn: Any, body: AgentIn, before: AgentStatus | None) -> None:
    # A new status is published; any change may let queued tickets through (more capacity, online).
    now = datetime.now(timezone.utc)
    if body.status != before:
        await _publish_status(conn, body.id, body.status, before, tuple(body.teams), body.hourly_cost, now)
    state = await store.load_state(conn)
    await drain(conn, state, body.teams, now)


async def _publish_status(
    conn: Any, agent_id: str, status: AgentStatus, before: AgentStatus | None,
    team_ids: tuple[str, ...], hourly_cost: float | None, now: datetime,
) -> None:
    event = AgentStatusChanged(agent_id=agent_id, status=status, previous_status=before,
                               teams=team_ids, hourly_cost=hourly_cost)
    await add_to_outbox(conn, [new_envelope(event, source=SOURCE, subject=agent_id, time=now)])


@router.put("/agents/{agent_id}/status", response_model=AgentOut, tags=["registry"],
            summary="Set an agent online, away or offline (publishes agent_status_changed)")
async def set_status(agent_id: str, body: StatusIn, request: Request, principal: CurrentPrincipal) -> AgentOut:
    runtime = _runtime(request)
    now = datetime.now(timezone.utc)
    async with runtime.engine.begin() as conn:
        await store.lock_decisions(conn)
        row = (await conn.execute(sa.select(agents).where(agents.c.id == agent_id))).first()
        if row is None:
            raise _not_found("agent", agent_id)
        access.check_status_change(principal, agent_id, row.teams)
        if row.status != body.status.value:
            await conn.execute(sa.update(agents).where(agents.c.id == agent_id).values(status=body.status.value))
            await _publish_status(conn, agent_id, body.status, AgentStatus(row.status), tuple(row.teams),
                                  row.hourly_cost, now)
            if body.status == AgentStatus.ONLINE:
                state = await store.load_state(conn)
                await drain(conn, state, teams_of_agent(state, agent_id), now)
        rows = (await conn.execute(sa.select(agents).where(agents.c.id == agent_id))).all()
        out = (await _agent_out(conn, rows))[0]
    runtime.wake_relay()
    return out


@router.delete("/agents/{agent_id}", status_code=204, tags=["registry"], summary="Delete an agent",
               dependencies=[access.MANAGE])
async def delete_agent(agent_id: str, request: Request, principal: CurrentPrincipal) -> Response:
    async with _runtime(request).engine.begin() as conn:
        access.check_teams(principal, await conn.scalar(sa.select(agents.c.teams).where(agents.c.id == agent_id)) or [])
        deleted = await conn.execute(sa.delete(agents).where(agents.c.id == agent_id))
        if deleted.rowcount == 0:
            raise _not_found("agent", agent_id)
    return Response(status_code=204)


# --- rules --------------------------------------------------------------------------------


async def _validate_rule(conn: Any, body: RuleIn) -> None:
    errors = [
        field_error(f"conditions.{i}.{part}", message, f"invalid_{part}")
        for i, c in enumerate(body.conditions)
        for part, message in condition_errors(c.field, c.op, c.value)
    ]
    if not (await conn.execute(sa.select(teams.c.id).where(teams.c.id == body.team))).first():
        errors.append(field_error("team", f"unknown team {body.team!r}", "unknown_team"))
    if errors:
        raise Problem(422, "Invalid rule", "; ".join(f"{e['field']}: {e['message']}" for e in errors),
                      errors=errors)


def _rule_values(body: RuleIn, rule_id: str, position: int) -> dict[str, Any]:
    values = body.model_dump(mode="json", exclude={"id", "position"})
    return {**values, "id": rule_id, "position": position}


def _rule_out(row: Any) -> RuleOut:
    return RuleOut(**row._mapping)


async def _place(conn: Any, rule_id: str, position: int | None) -> int:
    """Position for a rule: last by default; an explicit one shifts the rules at and after it."""
    if position is None:
        top = await conn.scalar(sa.select(sa.func.max(rules.c.position)).where(rules.c.id != rule_id))
        return 0 if top is None else top + 1
    taken = await conn.scalar(
        sa.select(sa.func.count()).select_from(rules).where(rules.c.id != rule_id, rules.c.position == position)
    )
    if taken:
        await conn.execute(sa.update(rules).where(rules.c.id != rule_id, rules.c.position >= position)
                           .values(position=rules.c.position + 1))
    return position


@router.get("/rules", response_model=list[RuleOut], tags=["rules"], summary="Rules in evaluation order")
async def list_rules(request: Request) -> list[RuleOut]:
    async with _runtime(request).reader.connect() as conn:
        rows = (await conn.execute(sa.select(rules).order_by(rules.c.position, rules.c.id))).all()
    return [_rule_out(r) for r in rows]


@router.post("/rules", response_model=RuleOut, status_code=201, tags=["rules"], summary="Add a rule",
             dependencies=[access.MANAGE], responses=_EXISTS)
async def create_rule(body: RuleIn, request: Request, response: Response,
                      principal: CurrentPrincipal) -> RuleOut:
    access.check_teams(principal, [body.team])
    rule_id = body.id or f"rule-{uuid.uuid4().hex[:8]}"
    async with _runtime(request).engine.begin() as conn:
        await store.lock_decisions(conn)
        await _validate_rule(conn, body)
        if (await conn.execute(sa.select(rules.c.id).where(rules.c.id == rule_id))).first():
            raise Problem(409, "Conflict", f"Rule {rule_id} exists; use PUT to replace it.")
        position = await _place(conn, rule_id, body.position)
        await conn.execute(sa.insert(rules).values(**_rule_values(body, rule_id, position)))
        row = (await conn.execute(sa.select(rules).where(rules.c.id == rule_id))).one()
    response.headers["Location"] = f"/v1/rules/{rule_id}"
    return _rule_out(row)


@router.get("/rules/{rule_id}", response_model=RuleOut, tags=["rules"], summary="One rule")
async def get_rule(rule_id: str, request: Request) -> RuleOut:
    async with _runtime(request).reader.connect() as conn:
        row = (await conn.execute(sa.select(rules).where(rules.c.id == rule_id))).first()
    if row is None:
        raise _not_found("rule", rule_id)
    return _rule_out(row)


@router.put("/rules/{rule_id}", response_model=RuleOut, tags=["rules"], summary="Create or replace a rule",
            dependencies=[access.MANAGE])
async def put_rule(rule_id: str, body: RuleIn, request: Request, principal: CurrentPrincipal) -> RuleOut:
    access.check_teams(principal, [body.team])
    if body.id is not None and body.id != rule_id:
        raise Problem(422, "Validation failed", "The body's id differs from the path's.",
                      errors=[field_error("id", "must equal the id in the path")])
    async with _runtime(request).engine.begin() as conn:
        await store.lock_decisions(conn)
        await _validate_rule(conn, body)
        access.check_teams(principal, [await conn.scalar(sa.select(rules.c.team).where(rules.c.id == rule_id))])
        current = await conn.scalar(sa.select(rules.c.position).where(rules.c.id == rule_id))
        position = await _place(conn, rule_id, body.position) if body.position is not None or current is None else current
        await conn.execute(upsert(conn, rules, ["id"], _rule_values(body, rule_id, position)))
        row = (await conn.execute(sa.select(rules).where(rules.c.id == rule_id))).one()
    return _rule_out(row)


@router.delete("/rules/{rule_id}", status_code=204, tags=["rules"], summary="Delete a rule",
               dependencies=[access.MANAGE])
async def delete_rule(rule_id: str, request: Request, principal: CurrentPrincipal) -> Response:
    async with _runtime(request).engine.begin() as conn:
        access.check_teams(principal, [await conn.scalar(sa.select(rules.c.team).where(rules.c.id == rule_id))])
        deleted = await conn.execute(sa.delete(rules).where(rules.c.id == rule_id))
        if deleted.rowcount == 0:
            raise _not_found("rule", rule_id)
    return Response(status_code=204)


# --- routing ------------------------------------------------------------------------------


@router.post("/route/preview", response_model=PreviewOut, tags=["routing"],
             summary="Which rule, team and agent a ticket would get (no side effects)")
async def route_preview(body: PreviewIn, request: Request) -> PreviewOut:
    facts = TicketFacts(
        ticket_id=uuid.UUID(int=0), subject=body.subject, channel=body.channel.value, type=body.type.value,
        priority=body.priority.value, category=body.category, language=body.language,
        affected_service=body.affected_service,
        requester_org=body.requester.org if body.requester else None, tags=tuple(body.tags),
    )
    async with _runtime(request).reader.connect() as conn:
        state = await store.load_state(conn)
    result = preview(state, facts, datetime.now(timezone.utc))
    decision = result.decision
    if decision is None:
        return PreviewOut(rule=None, team=None, tier=None, agent=None, strategy=None, queued=False,
                          reason="no team exists: the ticket would wait unrouted")
    return PreviewOut(rule=decision.rule, team=decision.team, tier=decision.tier, agent=decision.agent,
                      strategy=decision.strategy, queued=decision.queued, reason=decision.reason)


@router.get("/tickets/{ticket_id}/routing", response_model=TicketRoutingOut, tags=["routing"],
            summary="Routing's view of a ticket and its decisions, in order")
async def ticket_routing(ticket_id: uuid.UUID, request: Request) -> TicketRoutingOut:
    async with _runtime(request).reader.connect() as conn:
        view = await store.get_ticket(conn, ticket_id)
        if view is None:
            raise _not_found("ticket", ticket_id)
        rows = (await conn.execute(
            sa.select(decisions).where(decisions.c.ticket_id == ticket_id).order_by(decisions.c.seq)
        )).all()
    return TicketRoutingOut(
        ticket_id=ticket_id, state=view.state, tier=view.tier, team=view.team, agent=view.agent,
        queued_at=view.queued_at,
        decisions=[DecisionOut(id=r.event_id, type=r.type, decided_at=store.utc(r.decided_at), data=r.data)
                   for r in rows],
    )


@router.post("/tickets/{ticket_id}/transfer", response_model=TicketRoutingOut, tags=["routing"],
             summary="Transfer a ticket to another team or agent (a higher tier escalates)")
async def transfer(ticket_id: uuid.UUID, body: TransferIn, request: Request) -> TicketRoutingOut:
    runtime = _runtime(request)
    now = datetime.now(timezone.utc)
    async with runtime.engine.begin() as conn:
        await store.lock_decisions(conn)
        view = await store.get_ticket(conn, ticket_id)
        if view is None:
            raise _not_found("ticket", ticket_id)
        state = await store.load_state(conn)
        try:
            events = decide_transfer(state, view, to_team=body.to_team, to_agent=body.to_agent,
                                     reason=body.reason, now=now)
        except TransferRefused as refused:
            raise Problem(422, "Transfer refused", str(refused),
                          errors=[field_error(refused.field, str(refused))]) from None
        state = await publish(conn, state, events, now)
        if view.state == ASSIGNED:
            await drain(conn, state, [*teams_of_agent(state, view.agent), view.team], now)
    runtime.wake_relay()
    return await ticket_routing(ticket_id, request)
