"""Facts held in process (live.py) give the reports and breakdowns that reading the rows gives.

A reader holding the recent facts and one reading every row answer the same reports (every
KPI, filters, hours modes), series and breakdowns after each kind of change: new tickets and events
after the window, an old open ticket resolved, a late event reaching back into the window,
a ticket's calendar set long after its creation, a calendar defined (all of history). Windows
the held facts cover (live and past) and one starting before their horizon. Only the rows
touched since the earliest moved mark are read again; a mark of the whole history reloads.
On SQLite and PostgreSQL.
"""

from __future__ import annotations

import random
from dataclasses import replace
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from helpdesk_businesstime import Calendar
from helpdesk_metrics.live import LiveFacts
from helpdesk_metrics.reports import Query, Reader, breakdown, kpi_report, series_many
from helpdesk_metrics.store import Filters

from ..conftest import D, H, T0
from .test_projections import engine, feed  # noqa: F401
from .test_shared_reads import random_history

UTC = ZoneInfo("UTC")
NOW = T0 + 12 * D
HELD_DAYS = 10  # the horizon: NOW - 10 D = T0 + 2 D
FILTERS = (Filters(), Filters(team="net"), Filters(agent="a1"), Filters(channel="chat"))


class Readers:
    """The same clock holding facts and reading rows."""

    def __init__(self) -> None:
        calendar = Calendar.always_open()
        self.live = LiveFacts(HELD_DAYS)
        self.holding = Reader(now=NOW, default_calendar=calendar, live=self.live)
        self.reading = Reader(now=NOW, default_calendar=calendar)


QUERIES = (
    Query(start=T0 + 3 * D, end=NOW + H),  # live: cutoff ahead of the clock
    Query(start=T0 + 4 * D, end=T0 + 8 * D),  # past: the tickets touched since are refolded
    Query(start=T0 + 3 * D, end=NOW + H, as_of=T0 + 6 * D),
    Query(start=T0, end=T0 + 9 * D),  # starts before the horizon: rows read
)


async def agree(engine: AsyncEngine, readers: Readers) -> None:
    async with engine.connect() as conn:
        for base in QUERIES:
            for filters in FILTERS:
                for business in (False, True):
                    query = replace(base, filters=filters, business_hours=business)
                    assert (await kpi_report(conn, readers.holding, query)
                            == await kpi_report(conn, readers.reading, query)), query
            for filters in FILTERS:  # a series; the second filter reuses the first's steps
                query = replace(base, filters=filters)
                names = ("ticket_volume", "backlog", "resolution_time", "sla_compliance",
                         "agent_utilization", "csat")
                assert (await series_many(conn, readers.holding, query, names, "day", UTC)
                        == await series_many(conn, readers.reading, query, names, "day", UTC))
            for by in ("team", "agent", "priority"):
                for name in ("ticket_volume", "resolution_time", "first_contact_resolution"):
                    assert (await breakdown(conn, readers.holding, base, name, by)
                            == await breakdown(conn, readers.reading, base, name, by)), (base, by)


async def test_held_facts_give_what_the_rows_give(engine: AsyncEngine) -> None:
    rnd = random.Random(5)
    h = random_history(rnd, tickets=60)
    old_open = h.ticket(T0 + 2 * H, channel="chat")  # before the horizon, open throughout
    h.assign(old_open, T0 + 3 * H, team="net", agent_id="a1")
    for day in range(0, 10, 2):
        h.agent_status("a1", T0 + day * D, "online", cost=40.0)
        h.agent_status("a1", T0 + day * D + 8 * H, "offline")
    await feed(engine, h.envelopes)
    readers = Readers()
    await agree(engine, readers)
    assert (readers.live.loads, readers.live.refreshes) == (1, 0)
    await agree(engine, readers)  # nothing changed: nothing read again
    assert (readers.live.loads, readers.live.refreshes) == (1, 0)

    # After the windows: a new ticket and its events; the old open ticket resolved.
    seen = len(h.envelopes)
    tid = h.ticket(T0 + 10 * D, channel="chat")
    h.assign(tid, T0 + 10 * D + H, team="net", agent_id="a1")
    h.resolve(old_open, T0 + 10 * D + 2 * H, "a1")
    h.survey(old_open, T0 + 10 * D + 3 * H, {"csat": 4}, T0 + 10 * D + 4 * H, agent_id="a1")
    await feed(engine, h.envelopes[seen:])
    await agree(engine, readers)
    assert (readers.live.loads, readers.live.refreshes) == (1, 1)

    # A late event inside the windows, and a ticket leaving the backlog in the past.
    seen = len(h.envelopes)
    open_one = next(t for t, s in h.status.items()
                    if s not in ("resolved", "closed") and t in h.team
                    and t not in (old_open, tid))
    h.reply(open_one, T0 + 5 * D + 2 * H, "a1")
    h.transfer(open_one, T0 + 5 * D + 3 * H, to_team="net", to_agent="a2")
    await feed(engine, h.envelopes[seen:])
    await agree(engine, readers)
    assert (readers.live.loads, readers.live.refreshes) == (1, 2)

    # A ticket's calendar set long after its creation (marks its creation hour), then a
    # calendar defined (marks the whole history: everything is read again).
    seen = len(h.envelopes)
    h.calendar("office", T0 + 11 * D, [(d, "09:00", "17:00") for d in range(5)])
    await feed(engine, h.envelopes[seen:])
    await agree(engine, readers)
    assert readers.live.loads == 2
    seen = len(h.envelopes)
    h.clock(open_one, T0 + 11 * D, "office")
    await feed(engine, h.envelopes[seen:])
    await agree(engine, readers)
    assert (readers.live.loads, readers.live.refreshes) == (2, 3)


async def test_an_old_horizon_is_moved_by_a_reload(engine: AsyncEngine) -> None:
    h = random_history(random.Random(8), tickets=20)
    await feed(engine, h.envelopes)
    live = LiveFacts(HELD_DAYS)
    early = Reader(now=NOW, default_calendar=Calendar.always_open(), live=live)
    much_later = replace(early, now=NOW + 2 * HELD_DAYS * D + H)
    query = Query(start=T0 + 3 * D, end=NOW + H)
    async with engine.connect() as conn:
        await kpi_report(conn, early, query)
        await kpi_report(conn, much_later, replace(query, end=much_later.now + H))
    assert live.loads == 2
