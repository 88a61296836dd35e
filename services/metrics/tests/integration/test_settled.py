"""Kept results of past windows equal results computed again, whatever arrived since.

A reader with kept results (settled.py) and one without answer the same series and reports
after each kind of change: events after every cutoff (every past bucket is reused), a late
event reaching back into the series, a calendar defined, a ticket's calendar set from the
sla topic long after the ticket was created. Agents' shifts and surveys included. On SQLite
and PostgreSQL.
"""

from __future__ import annotations

import random
from dataclasses import replace
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from helpdesk_businesstime import Calendar
from helpdesk_metrics.reports import Query, Reader, kpi_report, series_many
from helpdesk_metrics.settled import SettledResults
from helpdesk_metrics.store import Filters
from helpdesk_metrics.testing import History

from ..conftest import D, H, T0
from .test_projections import engine, feed  # noqa: F401
from .test_shared_reads import random_history

NAMES = ("ticket_volume", "opened_vs_resolved", "backlog", "first_response_time",
         "resolution_time", "first_contact_resolution", "transfer_rate", "repeat_incidents",
         "average_handle_time", "sla_compliance", "csat", "agent_utilization",
         "cost_per_ticket")
NOW = T0 + 12 * D
START = T0 - 9 * H  # midnight, Monday 2026-01-05
DAYS = 9  # the series' daily buckets: [START, START + 9 D)


class Readers:
    """The same clock with and without kept results."""

    def __init__(self) -> None:
        calendar = Calendar.always_open()
        self.kept = SettledResults()
        self.keeping = Reader(now=NOW, default_calendar=calendar, settled=self.kept)
        self.fresh = Reader(now=NOW, default_calendar=calendar)


async def agree(engine: AsyncEngine, readers: Readers, query: Query) -> int:
    """Assert the series and the report agree with and without kept results; the number of
    windows whose results were reused."""
    before = readers.kept.reused
    async with engine.connect() as conn:
        kept = await series_many(conn, readers.keeping, query, NAMES, "day", ZoneInfo("UTC"))
        fresh = await series_many(conn, readers.fresh, query, NAMES, "day", ZoneInfo("UTC"))
        assert kept == fresh
        assert len(kept["backlog"]) == DAYS
        report = replace(query, start=T0 + 4 * D, end=T0 + 8 * D)
        assert (await kpi_report(conn, readers.keeping, report)
                == await kpi_report(conn, readers.fresh, report))
    return readers.kept.reused - before


def later(h: History, envelopes_before: int) -> list:
    return h.envelopes[envelopes_before:]


async def test_kept_results_equal_results_computed_again(engine: AsyncEngine) -> None:
    rnd = random.Random(3)
    h = random_history(rnd, tickets=50)
    created_first_day = list(h.status)[-2]  # random_history's late ticket, created at T0 + D
    for k, agent in enumerate(("a1", "a2", "a3")):
        for day in range(0, DAYS, 2):
            h.agent_status(agent, START + day * D + (8 + k) * H, "online", cost=30.0 + k)
            h.agent_status(agent, START + day * D + (16 + k) * H, "offline")
    envelopes = list(h.envelopes)
    # Half the history first, so the rest arrives after results were kept, late events included.
    await feed(engine, envelopes[: len(envelopes) // 2])
    readers = Readers()
    queries = [Query(start=START, end=START + DAYS * D, filters=f, business_hours=b)
               for f in (Filters(), Filters(team="net")) for b in (False, True)]
    for query in queries:
        assert await agree(engine, readers, query) == 0
    for query in queries:  # nothing arrived: every window reused (9 buckets and 2 report windows)
        assert await agree(engine, readers, query) == DAYS + 2
    await feed(engine, envelopes[len(envelopes) // 2:])
    for query in queries:
        await agree(engine, readers, query)

    # Events after every cutoff: every past window is reused.
    seen = len(h.envelopes)
    tid = h.ticket(T0 + 10 * D, channel="chat")
    h.assign(tid, T0 + 10 * D + H, team="net", agent_id="a2")
    h.agent_status("a2", T0 + 10 * D, "online", cost=45.0)
    h.survey(tid, T0 + 10 * D, {"csat": 2}, T0 + 10 * D + H, agent_id="a2")
    await feed(engine, later(h, seen))
    for query in queries:
        assert await agree(engine, readers, query) == DAYS + 2

    # A late event at T0 + 5 D + 2 H (Saturday 11:00): the five buckets ending by that
    # Saturday's midnight and the report's earlier window (ending at T0 + 4 D) stay.
    seen = len(h.envelopes)
    old = next(t for t, status in h.status.items() if status not in ("resolved", "closed"))
    h.reply(old, T0 + 5 * D + 2 * H, "a3")
    await feed(engine, later(h, seen))
    for query in queries:
        assert await agree(engine, readers, query) == 5 + 1

    # A calendar defined reaches every window; then a ticket's calendar set long after its
    # creation reaches the windows since the ticket was created (all but the first bucket).
    seen = len(h.envelopes)
    h.calendar("office", T0 + 11 * D, [(d, "09:00", "17:00") for d in range(5)])
    await feed(engine, later(h, seen))
    for query in queries:
        assert await agree(engine, readers, query) == 0
    for query in queries:
        await agree(engine, readers, query)
    seen = len(h.envelopes)
    h.clock(created_first_day, T0 + 11 * D, "office")
    await feed(engine, later(h, seen))
    for query in queries:
        assert await agree(engine, readers, query) == 1
