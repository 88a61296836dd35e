"""Use cases behind the REST surface: KPI reports, series, breakdowns, scorecard, forecast."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from helpdesk_businesstime import Calendar

from . import kpis
from .dataset import Dataset, Window
from .forecast import Forecast
from .live import LiveFacts, LiveRows
from .rows import utc
from .settled import Marks, SettledResults, read_marks
from .store import (
    Filters,
    iter_datasets,
    iter_values,
    load_config,
    load_dataset,
    load_targets,
)
from .tables import ticket_facts

PERSPECTIVES = ("financial", "customer", "internal_process", "learning_growth")


@dataclass(frozen=True)
class Query:
    """What a client asked: window, as-of instant, filters and hours mode."""

    start: datetime
    end: datetime
    filters: Filters = Filters()
    as_of: datetime | None = None
    business_hours: bool = False

    def window(self) -> Window:
        """The window with its cutoff (the as-of instant when it is earlier than the end)."""
        cutoff = self.end if self.as_of is None else min(self.end, self.as_of)
        return Window(self.start, self.end, cutoff)


@dataclass(frozen=True)
class Reader:
    """What a report needs besides the connection: the clock, the default calendar, the
    kept results of past windows (none: every window is computed) and the facts held in
    process (none: every window reads its rows)."""

    now: datetime
    default_calendar: Calendar
    settled: SettledResults | None = None
    live: LiveFacts | None = None

    async def marks(self, conn: AsyncConnection) -> Marks | None:
        """The history marks, read before any row, when kept results or held facts use them."""
        return None if self.settled is None and self.live is None else await read_marks(conn)

    async def live_rows(self, conn: AsyncConnection, marks: Marks | None) -> LiveRows | None:
        """The facts held in process, brought up to `marks`."""
        if self.live is None or marks is None:
            return None
        return await self.live.rows(conn, marks, self.now)


async def dataset(conn: AsyncConnection, reader: Reader, window: Window, query: Query,
                  filters: Filters | None = None) -> Dataset:
    """The rows of `window`, as of its cutoff."""
    return await load_dataset(conn, window, filters or query.filters,
                              business_hours=query.business_hours,
                              default_calendar=reader.default_calendar, read_at=reader.now)


def _entry(kpi: kpis.KpiDef, result: kpis.KpiResult, previous: kpis.KpiResult | None,
           target: tuple[float, str] | None) -> dict[str, Any]:
    value, direction = (target if target else (kpi.target, kpi.direction))
    entry: dict[str, Any] = {"name": kpi.name, "number": kpi.number, "unit": kpi.unit,
                             **asdict(result), "target": value, "direction": direction,
                             "status": kpis.status(result.value, value, direction),
                             "perspectives": list(kpi.perspectives)}
    if previous is not None:
        entry["trend"] = kpis.trend(result.value, previous.value, direction)
    return entry


async def kpi_report(conn: AsyncConnection, reader: Reader, query: Query,
                     names: tuple[str, ...] | None = None, trend: bool = True) -> list[dict[str, Any]]:
    """Every KPI (or `names`) over the query's window, with target, status and trend."""
    window = query.window()
    chosen = [kpi for kpi in kpis.CATALOG if names is None or kpi.name in names]
    windows = [window, window.previous()] if trend else [window]
    results = await _results(conn, reader, query, windows, chosen)
    targets = await load_targets(conn)
    return [_entry(kpi, results[0][kpi.name], results[1][kpi.name] if trend else None,
                   targets.get(kpi.name)) for kpi in chosen]


async def _results(conn: AsyncConnection, reader: Reader, query: Query, windows: list[Window],
                   chosen: list[kpis.KpiDef]) -> list[dict[str, kpis.KpiResult]]:
    """Each chosen KPI over each window (filters and hours mode from `query`). A window whose
    cutoff has passed reuses the results kept for it while nothing up to its cutoff changed
    (settled.py); the others are computed, their rows read once for all of them."""
    kept, stamps = reader.settled, {}
    out: list[dict[str, kpis.KpiResult]] = [{} for _ in windows]
    marks = await reader.marks(conn)  # before any row: a change committed later is seen
    if kept is not None and marks is not None:
        for i, w in enumerate(windows):
            if w.cutoff <= reader.now:
                stamps[i] = marks.up_to(w.cutoff)
                out[i] = dict(kept.get(_kept_key(query, w), stamps[i]))
    missing = [i for i, w in enumerate(windows) if any(k.name not in out[i] for k in chosen)]
    if not missing:
        return out
    async for j, data in iter_datasets(conn, [windows[i] for i in missing], query.filters,
                                       business_hours=query.business_hours,
                                       default_calendar=reader.default_calendar,
                                       live=await reader.live_rows(conn, marks),
                                       read_at=reader.now):
        i = missing[j]
        computed = {k.name: k.compute(data, windows[i]) for k in chosen if k.name not in out[i]}
        out[i].update(computed)
        if kept is not None and i in stamps:
            kept.put(_kept_key(query, windows[i]), stamps[i], computed)
    return out


def _kept_key(query: Query, window: Window) -> tuple[Any, ...]:
    return (window, query.filters, query.business_hours)


def buckets(start: datetime, end: datetime, interval: str, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """[start, end) cut at local hour/day/week (Monday)/month boundaries of `zone`."""
    local = start.astimezone(zone)
    if interval == "hour":
        edge = local.replace(minute=0, second=0, microsecond=0)
    else:
        edge = local.replace(hour=0, minute=0, second=0, microsecond=0)
        if interval == "week":
            edge -= timedelta(days=edge.weekday())
        elif interval == "month":
            edge = edge.replace(day=1)
    out: list[tuple[datetime, datetime]] = []
    while True:
        naive = edge.replace(tzinfo=None)
        if interval == "hour":
            nxt = (edge.astimezone(ZoneInfo("UTC")) + timedelta(hours=1)).astimezone(zone)
        elif interval == "day":
            nxt = (naive + timedelta(days=1)).replace(tzinfo=zone)
        elif interval == "week":
            nxt = (naive + timedelta(days=7)).replace(tzinfo=zone)
        else:
            year, month = (naive.year + 1, 1) if naive.month == 12 else (naive.year, naive.month + 1)
            nxt = naive.replace(year=year, month=month).replace(tzinfo=zone)
        lo, hi = max(edge, start), min(nxt, end)
        if hi > lo:
            out.append((lo, hi))
        if nxt >= end:
            return out
        edge = nxt


async def series(conn: AsyncConnection, reader: Reader, query: Query, name: str,
                 interval: str, zone: ZoneInfo) -> list[dict[str, Any]]:
    """One KPI per bucket; each bucket is a window of its own (facts as of its end)."""
    return (await series_many(conn, reader, query, (name,), interval, zone))[name]


async def series_many(conn: AsyncConnection, reader: Reader, query: Query,
                      names: Iterable[str], interval: str,
                      zone: ZoneInfo) -> dict[str, list[dict[str, Any]]]:
    """`series` of each of `names`, every bucket's rows read once for all of them (a dashboard
    asks for nine series over the same buckets)."""
    chosen = [kpis.BY_NAME[name] for name in dict.fromkeys(names)]
    edges = buckets(query.start, query.end, interval, zone)
    # The windows in UTC, the edges as the client's zone: comparing times of two zones costs
    # ten times one zone's, and a series compares every bucket's candidates with its bounds.
    windows = [replace(query, start=lo.astimezone(timezone.utc),
                       end=hi.astimezone(timezone.utc)).window() for lo, hi in edges]
    results = await _results(conn, reader, query, windows, chosen)
    return {kpi.name: [{"from": lo, "to": hi, **asdict(results[i][kpi.name])}
                       for i, (lo, hi) in enumerate(edges)] for kpi in chosen}


async def breakdown(conn: AsyncConnection, reader: Reader, query: Query, name: str,
                    by: str) -> list[dict[str, Any]]:
    """One KPI per value of a dimension (values seen among the window's tickets)."""
    kpi = kpis.BY_NAME[name]
    window = query.window()
    live = await reader.live_rows(conn, await reader.marks(conn))
    return [{by: value, **asdict(kpi.compute(data, window))}
            async for value, data in iter_values(conn, window, query.filters, by,
                                                 business_hours=query.business_hours,
                                                 default_calendar=reader.default_calendar,
                                                 live=live, read_at=reader.now)]


async def agents(conn: AsyncConnection, reader: Reader, query: Query) -> list[dict[str, Any]]:
    """KPI 28 rows joined with KPI 29's competence index."""
    window = query.window()
    data = await dataset(conn, reader, window, query)
    rows = kpis.agent_rows(data, window)
    index = {r["agent"]: r["competence_index"] for r in kpis.competence_rows(rows)}
    return [{**r, "competence_index": index[r["agent"]]} for r in rows]


async def scorecard(conn: AsyncConnection, reader: Reader, query: Query) -> dict[str, Any]:
    """The four balanced-scorecard perspectives with status, trend and baseline per KPI."""
    report = await kpi_report(conn, reader, query)
    values = await baseline(conn, reader, query)
    perspectives: dict[str, list[dict[str, Any]]] = {p: [] for p in PERSPECTIVES}
    for entry in report:
        item = {k: entry[k] for k in ("name", "value", "unit", "target", "direction", "status")}
        item["trend"] = entry.get("trend")
        item["baseline"] = values.get(entry["name"])
        for p in entry["perspectives"]:
            perspectives[p].append(item)
    return {"from": query.start, "to": query.end, "perspectives": perspectives}


async def baseline(conn: AsyncConnection, reader: Reader, query: Query) -> dict[str, Any]:
    """Explicit baseline values if set, else the KPIs of the first full window of equal length."""
    explicit = await load_config(conn, "baseline")
    if explicit:
        return dict(explicit)
    first = await _first_ticket(conn)
    length = query.end - query.start
    if first is None or first + length > reader.now:
        return {}
    report = await kpi_report(conn, reader, replace(query, start=first, end=first + length,
                                                     as_of=None), trend=False)
    return {e["name"]: e["value"] for e in report}


async def _first_ticket(conn: AsyncConnection) -> datetime | None:
    return utc(await conn.scalar(sa.select(sa.func.min(ticket_facts.c.created_at))))


async def forecast(conn: AsyncConnection, reader: Reader, query: Query, days: int) -> Forecast:
    """Backlog forecast from the query's window (history) forward `days`."""
    window = query.window()
    return kpis.forecast_backlog(await dataset(conn, reader, window, query), window, days)
