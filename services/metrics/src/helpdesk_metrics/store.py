"""Reads: select the rows one KPI computation needs into a `Dataset` (a few indexed queries).

A ticket's `ticket_facts` row is its fact as of any instant after its last event, so a window
reads the rows as they are, except for the tickets touched at or after the window's cutoff
(a past window, `as_of`): those are refolded from their stored events up to the cutoff, with
the same `facts.evolve` the consumer uses. Dimension filters apply to the facts as of the cutoff.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from helpdesk_businesstime import Calendar, CalendarError

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
from .candidates import CandidateIndex, Filters, candidate, filter_conditions, preselect
from .facts import TicketFact
from .fetch import fetch_rows as _rows
from .live import LiveRows
from .refold import Refolder
from .rows import FACT_SELECT, fact_from_values, utc
from .spans import SpanRows, WindowRows
from .tables import calendars, config, targets, ticket_facts



def _union(selects: list[Any]) -> Any:
    return selects[0] if len(selects) == 1 else sa.union_all(*selects)


async def load_facts(conn: AsyncConnection, window: Window,
                     filters: Filters = Filters()) -> dict[UUID, TicketFact]:
    """The facts matching `filters` of the tickets that can matter to `window`, as of its cutoff."""
    return (await _facts(conn, preselect(window), window.cutoff, filters)).facts


@dataclass(frozen=True)
class _Loaded:
    """What `_facts` read: the matching facts, the ids of the candidates that do not match,
    the matching facts that are rows as they are (not refolded) and the conditions used."""

    facts: dict[UUID, TicketFact]
    rejected: set[UUID]
    rows: dict[UUID, TicketFact]
    which: list[Any]


async def _facts(conn: AsyncConnection, which: list[Any], cutoff: datetime,
                 filters: Filters = Filters(), skip: tuple[str, ...] = (),
                 rejected: bool = False, later: _Loaded | None = None,
                 window: Window | None = None, refolder: Refolder | None = None) -> _Loaded:
    """The facts of the tickets selected by the disjoint conditions `which`, as of `cutoff`, that
    match `filters` (but `skip`); with `rejected`, also the ids of those that do not.

    A row whose last event is before the cutoff already is the fact as of then (so the
    filters apply in SQL); only the tickets touched since are refolded from their events
    (few, unless the cutoff is old) and filtered here. `later`: what the same filters read for
    the `preselect(window)` of a cutoff at or after this one; its rows untouched since this
    cutoff are taken from there instead of read again (the trend's previous window, series).
    `refolder`: the one earlier calls with later cutoffs refolded with (their events are not
    read again).
    """
    f = ticket_facts.c
    fresh = sa.or_(f.last_event_at.is_(None), f.last_event_at < cutoff)
    matching = filter_conditions(filters, skip)
    # Rows `later` read (candidates there, untouched since this cutoff, so matching there
    # exactly when they match here) are not read twice.
    exclude = ([] if later is None
               else [sa.not_(sa.func.coalesce(sa.or_(*later.which), sa.false()))])
    from_driver, rows = await _rows(conn, _union(
        [sa.select(*FACT_SELECT).where(w, fresh, *matching, *exclude) for w in which]))
    as_rows = {row[0]: fact_from_values(row, from_driver=from_driver) for row in rows}
    if later is not None:
        assert window is not None
        as_rows.update({tid: fact for tid, fact in later.rows.items()
                        if (fact.last_event_at is None or fact.last_event_at < cutoff)
                        and candidate(fact, window)})
    others: set[UUID] = set()
    if rejected and matching:
        _, rows = await _rows(conn, _union(
            [sa.select(f.ticket_id).where(w, fresh, sa.not_(sa.func.coalesce(sa.and_(*matching),
                                                                          sa.false())))
             for w in which]))
        others = {row[0] for row in rows}
    touched = _union([sa.select(f.ticket_id, f.calendar_id).where(w, f.last_event_at >= cutoff)
                      for w in which])
    refolded = await (refolder or Refolder()).facts(conn, touched, cutoff)
    out = dict(as_rows)
    for tid, fact in refolded.items():
        if filters.matches(fact, skip):
            out[tid] = fact
        else:
            others.add(tid)
    return _Loaded(out, others, as_rows, which)


#: Ids per `IN (...)` list: PostgreSQL takes up to 32767 parameters, old SQLites 999.
_CHUNK = {"postgresql": 20_000}


async def _facts_by_id(conn: AsyncConnection, ids: set[UUID], window: Window,
                       filters: Filters = Filters(), skip: tuple[str, ...] = ()) -> dict[UUID, TicketFact]:
    out: dict[UUID, TicketFact] = {}
    chunk = sorted(ids)
    size = _CHUNK.get(conn.dialect.name, 500)
    for i in range(0, len(chunk), size):
        found = await _facts(conn, [ticket_facts.c.ticket_id.in_(chunk[i:i + size])],
                             window.cutoff, filters, skip)
        out.update(found.facts)
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
                       business_hours: bool, default_calendar: Calendar,
                       read_at: datetime | None = None) -> Dataset:
    """Every row the KPIs of `window` read, filtered by `filters` (`read_at`: the clock)."""
    return (await load_datasets(conn, [window], filters, business_hours=business_hours,
                                default_calendar=default_calendar, read_at=read_at))[0]


async def load_datasets(conn: AsyncConnection, windows: list[Window], filters: Filters, *,
                        business_hours: bool, default_calendar: Calendar,
                        read_at: datetime | None = None) -> list[Dataset]:
    """`load_dataset` of each window; a ticket row several windows read is read once."""
    out = {i: ds async for i, ds in iter_datasets(conn, windows, filters,
                                                  business_hours=business_hours,
                                                  default_calendar=default_calendar,
                                                  read_at=read_at)}
    return [out[i] for i in range(len(windows))]


async def iter_datasets(conn: AsyncConnection, windows: list[Window], filters: Filters, *,
                        business_hours: bool, default_calendar: Calendar,
                        live: LiveRows | None = None,
                        read_at: datetime | None = None) -> AsyncIterator[tuple[int, Dataset]]:
    """(index, `load_dataset`) of each window, latest cutoff first, one dataset at a time
    (a series of many buckets does not hold them all); a row several windows read is read once.
    `live`: the facts held in process, for the windows it covers (not read again)."""
    swept = len(windows) >= _SWEEP_FROM
    loads = (_swept(conn, windows, filters, live) if swept
             else _each(conn, windows, filters, live))
    # A series' buckets slice one read; a report and its trend read their own rows, unsorted.
    span = await SpanRows.read(conn, _span(windows)) if swept else None
    async for i, loaded in loads:
        window = windows[i]
        rows = (span or await SpanRows.read(conn, window)).of(window)
        yield i, await _dataset(conn, window, filters, loaded, rows,
                                business_hours=business_hours, default_calendar=default_calendar,
                                read_at=read_at)


async def iter_values(conn: AsyncConnection, window: Window, filters: Filters, by: str, *,
                      business_hours: bool, default_calendar: Calendar,
                      live: LiveRows | None = None,
                      read_at: datetime | None = None) -> AsyncIterator[tuple[str, Dataset]]:
    """(value, `load_dataset` of `window` with `filters` and `by` set to it) for each value of the
    dimension `by` among the window's matching facts, in order (a breakdown). The window's
    facts and rows are read once: a value's facts are the matching ones with that value."""
    loaded = (await _held(conn, live, window, filters, live.refolder())
              if live is not None and live.covers(window)
              else await _facts(conn, preselect(window), window.cutoff, filters, rejected=True))
    rows = (await SpanRows.read(conn, window)).of(window)
    groups: dict[str, dict[UUID, TicketFact]] = {}
    for tid, fact in loaded.facts.items():
        value = fact.dimension(by)
        if value is not None:
            groups.setdefault(value, {})[tid] = fact
    every = set(loaded.facts)
    for value in sorted(groups):
        facts = groups[value]
        part = _Loaded(facts, loaded.rejected | (every - facts.keys()), {}, [])
        yield value, await _dataset(conn, window, replace(filters, **{by: value}), part, rows,
                                    business_hours=business_hours,
                                    default_calendar=default_calendar, read_at=read_at)


def _span(windows: list[Window]) -> Window:
    """A window holding every one of `windows` (its stop is at or after each of theirs)."""
    return Window(min(w.start for w in windows), max(w.end for w in windows),
                  max(w.cutoff for w in windows))


#: From this many windows (a series), one read of every window's rows beats a read per window.
#: Fewer (a report and its trend) read per window: the filters then apply in SQL.
_SWEEP_FROM = 3


def _latest_first(windows: list[Window]) -> list[int]:
    return sorted(range(len(windows)), key=lambda i: windows[i].cutoff, reverse=True)


async def _each(conn: AsyncConnection, windows: list[Window], filters: Filters,
                live: LiveRows | None = None) -> AsyncIterator[tuple[int, _Loaded]]:
    later: _Loaded | None = None
    refolder = Refolder() if live is None else live.refolder()
    # Latest cutoff first: an earlier window reuses the rows untouched since its cutoff, and
    # the events read to refold the tickets touched since a later one.
    for i in _latest_first(windows):
        window = windows[i]
        if live is not None and live.covers(window):
            later = None
            yield i, await _held(conn, live, window, filters, refolder)
            continue
        later = await _facts(conn, preselect(window), window.cutoff, filters, rejected=True,
                             later=later, window=window, refolder=refolder)
        yield i, later


async def _held(conn: AsyncConnection, live: LiveRows, window: Window, filters: Filters,
                refolder: Refolder) -> _Loaded:
    """What `_facts(preselect(window), ..., rejected=True)` reads, from the facts held in
    process: the rows untouched since the cutoff as they are, the others refolded."""
    cutoff = window.cutoff
    wanted = filters.items()
    facts: dict[UUID, TicketFact] = {}
    rejected: set[UUID] = set()
    touched: dict[UUID, str | None] = {}
    for fact in live.of(window):
        last = fact.last_event_at
        if last is not None and last >= cutoff:
            touched[fact.ticket_id] = fact.calendar_id
        elif not wanted or all(fact.dimension(d) == v for d, v in wanted):
            facts[fact.ticket_id] = fact
        else:
            rejected.add(fact.ticket_id)
    if touched:
        for tid, fact in (await refolder.facts_named(conn, touched, cutoff)).items():
            if filters.matches(fact):
                facts[tid] = fact
            else:
                rejected.add(tid)
    return _Loaded(facts, rejected, {}, [])


async def _swept(conn: AsyncConnection, windows: list[Window], filters: Filters,
                 live: LiveRows | None = None) -> AsyncIterator[tuple[int, _Loaded]]:
    """What `_each` yields, from one read of the rows any window can select and one read of
    the events of those touched since the earliest cutoff (a series' buckets share most).
    With `live` covering every window, the rows are the held ones and so are the steps of
    the tickets refolded before."""
    span = _span(windows)
    earliest = min(w.cutoff for w in windows)
    if live is not None and live.covers(span):
        current, judged_only, refolder = await _swept_held(conn, live, span, earliest, filters)
    else:
        current, judged_only, refolder = await _swept_rows(conn, span, earliest, filters)
    read = CandidateIndex([fact for fact in current if fact.ticket_id not in judged_only])
    judged = CandidateIndex([fact for fact in current if fact.ticket_id in judged_only])
    wanted_values = filters.items()
    for i in _latest_first(windows):
        window = windows[i]
        cutoff = window.cutoff
        facts: dict[UUID, TicketFact] = {}
        rejected = {row.ticket_id for row in judged.of(window)}
        for row in read.of(window):
            last = row.last_event_at
            fact = row if last is None or last < cutoff else refolder.fact(row.ticket_id, cutoff)
            if fact is None:
                continue
            if not wanted_values or all(fact.dimension(d) == v for d, v in wanted_values):
                facts[row.ticket_id] = fact
            else:
                rejected.add(row.ticket_id)
        yield i, _Loaded(facts, rejected, {}, [])


async def _swept_rows(conn: AsyncConnection, span: Window, earliest: datetime,
                      filters: Filters) -> tuple[list[TicketFact], set[UUID], Refolder]:
    """The rows a sweep reads (`judged_only`: the ids of those only judged as candidates) and
    the refolder holding the events of the ones touched since `earliest`."""
    f = ticket_facts.c
    which = preselect(span)  # a superset of every window's `preselect`
    touched = f.last_event_at >= earliest
    matching = filter_conditions(filters)
    # A touched row is read whatever it matches now: a window before its change judges the
    # refolded fact.
    read_too = [sa.or_(sa.and_(*matching), touched)] if matching else []
    from_driver, rows = await _rows(conn, _union(
        [sa.select(*FACT_SELECT).where(w, *read_too) for w in which]))
    current = [fact_from_values(row, from_driver=from_driver) for row in rows]
    if matching:
        # Rows that match no filter and are untouched since the earliest cutoff: only judged.
        _, rows = await _rows(conn, _union(
            [sa.select(f.ticket_id, f.created_at, f.last_resolved_at, f.change_at, f.status)
             .where(w, sa.not_(sa.or_(sa.and_(*matching), touched))) for w in which]))
        current.extend(TicketFact(ticket_id=tid, created_at=utc(created),
                                  last_resolved_at=utc(resolved), change_at=utc(change),
                                  status=status, last_event_at=None)
                       for tid, created, resolved, change, status in rows)
        judged_only = {row[0] for row in rows}
    else:
        judged_only = set()
    refolder = Refolder()
    await refolder.read(conn, _union([sa.select(f.ticket_id, f.calendar_id).where(w, touched)
                                      for w in which]), span.cutoff)
    return current, judged_only, refolder


async def _swept_held(conn: AsyncConnection, live: LiveRows, span: Window, earliest: datetime,
                      filters: Filters) -> tuple[list[TicketFact], set[UUID], Refolder]:
    """`_swept_rows` from the held facts, refolding with the steps held of earlier sweeps."""
    wanted = filters.items()
    current = live.of(span)
    judged_only: set[UUID] = set()
    touched: dict[UUID, str | None] = {}
    for fact in current:
        last = fact.last_event_at
        if last is not None and last >= earliest:
            touched[fact.ticket_id] = fact.calendar_id
        elif wanted and not all(fact.dimension(d) == v for d, v in wanted):
            judged_only.add(fact.ticket_id)
    refolder = live.refolder()
    await refolder.read_named(conn, touched, span.cutoff)
    return current, judged_only, refolder


async def _dataset(conn: AsyncConnection, window: Window, filters: Filters, loaded: _Loaded,
                   rows: WindowRows, *, business_hours: bool,
                   default_calendar: Calendar, read_at: datetime | None = None) -> Dataset:
    facts, rejected = loaded.facts, loaded.rejected

    event_rows, sla_rows, sent_rows = rows.events, rows.sla, rows.sent
    answer_rows = rows.answers

    # The matching facts of every ticket an event row of the window refers to.
    matching = dict(facts)
    # Work counts for the agent who logged it: the ticket need only match the other filters.
    worked: dict[UUID, TicketFact] = {}
    # Tickets that exist but do not match; a survey of an unknown ticket is judged by its own
    # agent and team.
    other: set[UUID] = set(rejected)
    filtered = bool(filters.items())
    if filtered:
        surveyed = {r.ticket_id for r in (*sent_rows, *answer_rows) if r.ticket_id is not None}
        # The candidates' facts were judged already (`rejected`): look up only the others.
        wanted = {r[0] for r in event_rows} | {r.ticket_id for r in sla_rows} | surveyed
        matching.update(await _facts_by_id(conn, wanted - set(matching) - other, window, filters))
        other |= set(await _facts_by_id(conn, surveyed - set(matching) - other, window))
        if filters.agent is not None:
            work = {r[0] for r in event_rows
                    if r[1] == "helpdesk.ticket.work_logged.v1" and r[3] == filters.agent}
            worked = await _facts_by_id(conn, work, window, filters, skip=("agent",))

    def ticket_ok(tid: UUID | None) -> bool:
        return not filtered or tid in matching

    def work_ok(tid: UUID) -> bool:
        return tid in worked if filters.agent is not None else ticket_ok(tid)

    def survey_ok(tid: UUID | None, agent: str | None, team: str | None) -> bool:
        if tid is not None and (tid in matching or tid in other):
            return ticket_ok(tid)
        own = {"agent": agent, "team": team}
        return all(own.get(d, "\0") == v for d, v in filters.items())

    events = []
    for tid, type_, at, agent, secs, kind in event_rows:
        if type_ == "helpdesk.ticket.work_logged.v1":
            # Work counts for the agent who logged it, on tickets matching the other filters.
            if filters.agent is not None and agent != filters.agent:
                continue
            if not work_ok(tid):
                continue
        elif filtered and tid not in matching:
            continue
        events.append(TicketEventRow(tid, type_, utc(at), agent, secs, kind))  # type: ignore[arg-type]

    statuses = [AgentStatusRow(r.agent_id, r.status, utc(r.at), tuple(r.teams or ()), r.hourly_cost)  # type: ignore[arg-type]
                for r in rows.statuses
                if (filters.agent is None or r.agent_id == filters.agent)
                and (filters.team is None or filters.team in (r.teams or ()))]

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
        read_at=read_at,
    )
