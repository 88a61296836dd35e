"""Metrics' REST surface (grows into the full KPI catalog)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Query, Request
from pydantic import AwareDatetime, BaseModel

from helpdesk_runtime.problems import Problem, field_error

from .tables import ticket_facts

router = APIRouter(prefix="/v1", tags=["kpis"])


class Kpi(BaseModel):
    """One KPI's value over the window."""

    name: str
    value: float
    unit: str


class KpiReport(BaseModel):
    """KPIs over a time window [from, to)."""

    window_from: datetime
    window_to: datetime
    kpis: list[Kpi]


@router.get("/kpis", response_model=KpiReport, summary="Every KPI over a time window")
async def list_kpis(
    request: Request,
    from_: Annotated[AwareDatetime | None, Query(alias="from", description="Window start (RFC 3339)")] = None,
    to: Annotated[AwareDatetime | None, Query(description="Window end, exclusive (RFC 3339)")] = None,
) -> KpiReport:
    end = to or datetime.now(timezone.utc)
    start = from_ or end - timedelta(days=30)
    if start >= end:
        raise Problem(422, "Validation failed", "`from` must be before `to`.",
                      errors=[field_error("query.from", "must be before `to`")])
    engine = request.app.state.runtime.reader
    async with engine.connect() as conn:
        volume = await conn.scalar(
            sa.select(sa.func.count()).select_from(ticket_facts)
            .where(ticket_facts.c.created_at >= start, ticket_facts.c.created_at < end)
        )
    return KpiReport(window_from=start, window_to=end,
                     kpis=[Kpi(name="ticket_volume", value=volume or 0, unit="tickets")])
