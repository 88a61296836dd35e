"""Metrics' REST surface: KPIs, series, breakdowns, agents, targets, scorecard, cost model, forecast."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime
from sqlalchemy.ext.asyncio import AsyncConnection

from helpdesk_runtime.auth import Caller
from helpdesk_runtime.collector import collector_paused
from helpdesk_runtime.problems import Problem, field_error
from helpdesk_runtime.upsert import upsert

from . import access, kpis, reports, settled
from .rebuild import rebuild
from .reports import Reader
from .schemas import BaselineIn, CostModelIn, TargetIn
from .store import Filters
from .tables import config, targets

router = APIRouter(prefix="/v1", tags=["kpis"], dependencies=[access.CONFIGURE])

MAX_RANGE = timedelta(days=731)
MAX_BUCKETS = 1000
DEFAULT_RANGE = timedelta(days=30)
Dimension = Literal["team", "agent", "channel", "category", "priority", "tier", "type"]


def _bad(field: str, message: str, status: int = 422) -> Problem:
    return Problem(status, "Validation failed", message, errors=[field_error(field, message)])


def query_params(
    from_: Annotated[AwareDatetime | None, Query(alias="from", description="Window start (RFC 3339)")] = None,
    to: Annotated[AwareDatetime | None, Query(description="Window end, exclusive (RFC 3339); default the next whole minute (as_of when set)")] = None,
    as_of: Annotated[AwareDatetime | None, Query(description="The KPIs as they stood at this instant")] = None,
    team: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    agent: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    channel: Annotated[Literal["email", "phone", "chat", "portal", "api", "walk_in", "social"] | None, Query()] = None,
    category: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    priority: Annotated[Literal["P1", "P2", "P3", "P4"] | None, Query()] = None,
    tier: Annotated[int | None, Query(ge=1, le=3)] = None,
    type: Annotated[Literal["incident", "service_request", "question", "problem", "change"] | None, Query()] = None,
    hours: Annotated[Literal["calendar", "business"], Query(description="Durations in calendar or business hours")] = "calendar",
) -> reports.Query:
    """The common query parameters, validated (the problem names the field)."""
    end = to.astimezone(timezone.utc) if to else (as_of.astimezone(timezone.utc) if as_of
                                                  else _next_minute(datetime.now(timezone.utc)))
    start = from_.astimezone(timezone.utc) if from_ else end - DEFAULT_RANGE
    if start >= end:
        raise _bad("query.from", "must be before `to`")
    if end - start > MAX_RANGE:
        raise _bad("query.to", f"the window may span at most {MAX_RANGE.days} days")
    if as_of is not None and as_of < start:
        raise _bad("query.as_of", "must not be before `from`")
    filters = Filters(team=team, agent=agent, channel=channel, category=category,
                      priority=priority, tier=None if tier is None else str(tier), type=type)
    return reports.Query(start=start, end=end, filters=filters,
                         as_of=None if as_of is None else as_of.astimezone(timezone.utc),
                         business_hours=hours == "business")


def _next_minute(now: datetime) -> datetime:
    """The default window end: every request of the same minute asks for the same window, so
    the previous window of its trend (as known at its end) is computed once a minute, and the
    window still holds what happened up to now (time online counts up to the clock only)."""
    whole = now.replace(second=0, microsecond=0)
    return whole if whole == now else whole + timedelta(minutes=1)


QueryDep = Annotated[reports.Query, Depends(query_params)]


def _kpi(name: str) -> str:
    if name not in kpis.BY_NAME:
        raise Problem(404, "Unknown KPI", f"No KPI named {name!r}.",
                      errors=[field_error("path.name", f"unknown KPI; one of {', '.join(kpis.BY_NAME)}")])
    return name


def _reader(request: Request) -> Reader:
    return Reader(now=datetime.now(timezone.utc),
                  default_calendar=request.app.state.default_calendar,
                  settled=request.app.state.settled_results,
                  live=request.app.state.live_facts)


@asynccontextmanager
async def _report_connection(request: Request) -> AsyncIterator[AsyncConnection]:
    """A reader connection for a report, with the cyclic collector paused while it runs."""
    with collector_paused():
        async with request.app.state.runtime.reader.connect() as conn:
            yield conn


def _json(document: Any) -> JSONResponse:
    return JSONResponse(jsonable_encoder(document))


@router.get("/kpis", summary="Every KPI over a time window")
async def list_kpis(request: Request, query: QueryDep, caller: Caller) -> JSONResponse:
    access.check_scope(caller, query.filters)
    async with _report_connection(request) as conn:
        report = await reports.kpi_report(conn, _reader(request), query)
    return _json({"from": query.start, "to": query.end, "as_of": query.as_of,
                  "hours": "business" if query.business_hours else "calendar",
                  "kpis": [access.own_numbers(caller, e["name"], e) for e in report]})


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise _bad("query.tz", f"unknown time zone {tz!r}") from None


def _check_buckets(query: reports.Query, interval: str, zone: ZoneInfo) -> None:
    if len(reports.buckets(query.start, query.end, interval, zone)) > MAX_BUCKETS:
        raise _bad("query.interval", f"more than {MAX_BUCKETS} buckets; widen the interval")


Interval = Annotated[Literal["hour", "day", "week", "month"], Query()]
Zone = Annotated[str, Query(max_length=64, description="IANA time zone of the buckets")]


# Before `/kpis/{name}`, which would take "series" for a KPI's name.
@router.get("/kpis/series", summary="Several KPIs as time series over the same buckets")
async def kpi_series_many(
    request: Request, query: QueryDep, caller: Caller,
    names: Annotated[str, Query(min_length=1, max_length=1000,
                                description="Comma-separated KPI names")],
    interval: Interval = "day", tz: Zone = "UTC",
) -> JSONResponse:
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in kpis.BY_NAME]
    if unknown or not wanted:
        raise _bad("query.names", f"unknown KPI {unknown[0]!r}" if unknown else "name at least one KPI")
    zone = _zone(tz)
    _check_buckets(query, interval, zone)
    access.check_scope(caller, query.filters)
    async with _report_connection(request) as conn:
        series = await reports.series_many(conn, _reader(request), query, wanted, interval, zone)
    return _json({"interval": interval, "tz": tz, "series": [
        {"name": name, "points": [access.own_numbers(caller, name, p) for p in points]}
        for name, points in series.items()]})


@router.get("/kpis/{name}", summary="One KPI as a time series")
async def kpi_series(request: Request, name: str, query: QueryDep, caller: Caller,
                     interval: Interval = "day", tz: Zone = "UTC") -> JSONResponse:
    _kpi(name)
    zone = _zone(tz)
    _check_buckets(query, interval, zone)
    access.check_scope(caller, query.filters)
    async with _report_connection(request) as conn:
        points = await reports.series(conn, _reader(request), query, name, interval, zone)
    return _json({"name": name, "interval": interval, "tz": tz,
                  "points": [access.own_numbers(caller, name, p) for p in points]})


@router.get("/kpis/{name}/breakdown", summary="One KPI per value of a dimension")
async def kpi_breakdown(request: Request, name: str, query: QueryDep, caller: Caller,
                        by: Annotated[Dimension, Query()]) -> JSONResponse:
    _kpi(name)
    access.check_scope(caller, query.filters, by)
    async with _report_connection(request) as conn:
        rows = await reports.breakdown(conn, _reader(request), query, name, by)
    return _json({"name": name, "by": by,
                  "rows": [access.own_numbers(caller, name, row) for row in rows]})


@router.get("/agents/performance", summary="Per-agent performance and competence index",
            dependencies=[access.PEOPLE])
async def agents_performance(request: Request, query: QueryDep) -> JSONResponse:
    async with _report_connection(request) as conn:
        rows = await reports.agents(conn, _reader(request), query)
    return _json({"from": query.start, "to": query.end, "agents": rows})


@router.put("/targets/{name}", summary="Set a KPI's target and direction")
async def put_target(request: Request, name: str, body: TargetIn) -> JSONResponse:
    _kpi(name)
    async with request.app.state.runtime.engine.begin() as conn:
        await conn.execute(upsert(conn, targets, ["kpi"], {"kpi": name, "value": body.value,
                                                           "direction": body.direction}))
    return _json({"kpi": name, **body.model_dump()})


@router.get("/targets", summary="Every KPI's target (set or default)")
async def get_targets(request: Request) -> JSONResponse:
    async with request.app.state.runtime.reader.connect() as conn:
        rows = {r.kpi: (r.value, r.direction) for r in (await conn.execute(sa.select(targets))).all()}
    return _json([{"kpi": k.name, "value": rows.get(k.name, (k.target, k.direction))[0],
                   "direction": rows.get(k.name, (k.target, k.direction))[1],
                   "default": k.name not in rows} for k in kpis.CATALOG])


async def _put_config(request: Request, key: str, value: dict[str, Any]) -> None:
    async with request.app.state.runtime.engine.begin() as conn:
        await conn.execute(upsert(conn, config, ["key"], {"key": key, "value": value}))
        # The cost model is part of every window's financial KPIs (settled.py).
        await settled.mark_all_of_history(conn)


@router.put("/cost-model", summary="Set the cost model (hourly costs, overhead, budget, value)")
async def put_cost_model(request: Request, body: CostModelIn) -> JSONResponse:
    await _put_config(request, "cost_model", body.model_dump())
    return _json(body.model_dump())


@router.put("/scorecard/baseline", summary="Set the scorecard baseline explicitly")
async def put_baseline(request: Request, body: BaselineIn) -> JSONResponse:
    for name in body.values:
        if name not in kpis.BY_NAME:
            raise _bad(f"body.values.{name}", "unknown KPI")
    await _put_config(request, "baseline", body.values)
    return _json(body.model_dump())


@router.get("/scorecard/baseline", summary="The scorecard's baseline values (set or computed)")
async def get_baseline(request: Request, query: QueryDep, caller: Caller) -> JSONResponse:
    access.check_scope(caller, query.filters)
    async with _report_connection(request) as conn:
        values = await reports.baseline(conn, _reader(request), query)
    return _json({"values": values})


@router.get("/scorecard", summary="The balanced scorecard: four perspectives with baseline")
async def get_scorecard(request: Request, query: QueryDep, caller: Caller) -> JSONResponse:
    access.check_scope(caller, query.filters)
    async with _report_connection(request) as conn:
        card = await reports.scorecard(conn, _reader(request), query)
    return _json(card)


@router.post("/admin/rebuild", summary="Replay every topic from offset 0 and switch over",
             responses={409: {"description": "A rebuild is already running"}},
             dependencies=[access.ADMIN_ONLY])
async def admin_rebuild(request: Request) -> JSONResponse:
    lock: asyncio.Lock = request.app.state.rebuild_lock
    if lock.locked():
        raise Problem(409, "Rebuild running", "A rebuild is already running; try again later.")
    runtime = request.app.state.runtime
    async with lock:
        report = await rebuild(runtime.engine, runtime.settings.kafka, runtime.settings.name)
    return _json(asdict(report))


@router.get("/backlog/forecast", summary="Backlog forecast with a 95% prediction interval")
async def backlog_forecast(request: Request, query: QueryDep, caller: Caller,
                           days: Annotated[int, Query(ge=1, le=90)] = 14) -> JSONResponse:
    access.check_scope(caller, query.filters)
    async with _report_connection(request) as conn:
        fc = await reports.forecast(conn, _reader(request), query, days)
    return _json(asdict(fc))
