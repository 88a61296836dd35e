"""REST: a ticket's clocks, breaches, and policy simulation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Query, Request
from helpdesk_events.sla import Target
from helpdesk_runtime.problems import Problem, field_error

from . import access
from .domain.clocks import ClockStatus
from .domain.simulate import simulate
from .routes_config import policy_of, validate_policy
from .schemas import (
    BreachView,
    ClockView,
    SimulationIn,
    SimulationOut,
    TargetCountsOut,
    TicketSlaView,
)
from .store import as_utc, load_config, load_history, load_state
from .tables import breaches, ticket_sla

router = APIRouter(prefix="/v1", tags=["sla"], dependencies=[access.CONFIGURE])


@router.get(
    "/tickets/{ticket_id}/sla",
    response_model=TicketSlaView,
    responses={404: {"description": "No SLA known for the ticket"}},
    summary="A ticket's clocks",
)
async def ticket_sla_view(ticket_id: uuid.UUID, request: Request) -> TicketSlaView:
    now = datetime.now(UTC)
    async with request.app.state.runtime.reader.connect() as conn:
        state = await load_state(conn, ticket_id)
        config = await load_config(conn)
    if state is None:
        raise Problem(404, "Not found", f"No SLA known for ticket {ticket_id}.")
    views = []
    for clock in state.clocks.values():
        cal = config.calendar(clock.calendar_id)
        views.append(
            ClockView(
                target=clock.target,
                state=clock.status.value,
                outcome=clock.outcome,
                policy_id=clock.policy_id,
                calendar_id=clock.calendar_id,
                started_at=clock.started_at,
                due_at=clock.due_at if clock.status is not ClockStatus.PAUSED else None,
                warn_at=clock.warn_at,
                remaining_business_seconds=int(clock.remaining_at(cal, now)),
                elapsed_business_seconds=int(clock.elapsed_at(cal, now)),
                paused=clock.status is ClockStatus.PAUSED,
                warned=clock.warned,
                breached=clock.breach_fired or clock.outcome == "breached",
            )
        )
    return TicketSlaView(
        ticket_id=ticket_id, policy_id=state.policy_id, status=state.facts.status, clocks=views
    )


@router.get("/breaches", response_model=list[BreachView], summary="Breaches, newest first")
async def list_breaches(
    request: Request,
    from_: Annotated[
        datetime | None, Query(alias="from", description="Breached at or after (RFC 3339)")
    ] = None,
    to: Annotated[datetime | None, Query(description="Breached before (RFC 3339)")] = None,
    target: Target | None = None,
    team: str | None = None,
    priority: Annotated[str | None, Query(pattern=r"^P[1-4]$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[BreachView]:
    query = sa.select(breaches).order_by(breaches.c.breached_at.desc()).limit(limit)
    for name, value in (("from", from_), ("to", to)):
        if value is not None and value.tzinfo is None:
            raise Problem(
                422,
                "Validation failed",
                f"`{name}` needs a time zone.",
                errors=[field_error(f"query.{name}", "needs a time zone offset")],
            )
    if from_ is not None:
        query = query.where(breaches.c.breached_at >= from_.astimezone(UTC))
    if to is not None:
        query = query.where(breaches.c.breached_at < to.astimezone(UTC))
    if target is not None:
        query = query.where(breaches.c.target == target.value)
    if team is not None:
        query = query.where(breaches.c.team == team)
    if priority is not None:
        query = query.where(breaches.c.priority == priority)
    async with request.app.state.runtime.reader.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [
        BreachView(
            **{**row._mapping, "due_at": as_utc(row.due_at), "breached_at": as_utc(row.breached_at)}
        )
        for row in rows
    ]


@router.post(
    "/policies/simulate",
    response_model=SimulationOut,
    responses={422: {"description": "Invalid policy or range"}},
    summary="Replay the stored history of tickets created in a range under a candidate policy",
)
async def simulate_policy(body: SimulationIn, request: Request) -> SimulationOut:
    start, end = body.from_.astimezone(UTC), body.to.astimezone(UTC)
    if start >= end:
        raise Problem(
            422,
            "Validation failed",
            "`from` must be before `to`.",
            errors=[field_error("from", "must be before `to`")],
        )
    as_of = datetime.now(UTC)
    async with request.app.state.runtime.reader.connect() as conn:
        await validate_policy(conn, body.policy)
        config = await load_config(conn)
        ids = list(
            (
                await conn.scalars(
                    sa.select(ticket_sla.c.ticket_id).where(
                        ticket_sla.c.created_at >= start, ticket_sla.c.created_at < end
                    )
                )
            ).all()
        )
        histories = await load_history(conn, ids)
    candidate = policy_of(body.policy.id or "candidate", 0, body.policy)
    result = simulate(
        histories.values(), candidate, config, as_of, match_conditions=body.match_conditions
    )
    return SimulationOut(
        tickets=result.tickets,
        met=result.met,
        breached=result.breached,
        as_of=as_of,
        targets={
            t: TargetCountsOut(met=c.met, breached=c.breached, open=c.open)
            for t, c in result.targets.items()
        },
    )
