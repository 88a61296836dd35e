"""Reads shared by many windows or filters give what each would read alone.

A series reads its buckets in one sweep, a breakdown its window once for every value: the same
facts, and the same KPIs, as a report per bucket or per value.

On SQLite and PostgreSQL, with random histories whose tickets move between teams, agents and
tiers, get resolved, reopened and closed, and sometimes carry an event older than the one
before it in their stream.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from helpdesk_metrics import store
from helpdesk_metrics.reports import Query, breakdown, kpi_report, series_many
from helpdesk_metrics.store import Filters
from helpdesk_metrics.testing import History

from ..conftest import D, H, M, T0
# `engine`: the migrated database fixture of the projection tests, shared.
from .test_projections import LIVE, engine, feed  # noqa: F401

TEAMS = ("desk", "net", "apps")
AGENTS = ("a1", "a2", "a3")
FILTERS = (Filters(), Filters(team="net"), Filters(agent="a2"), Filters(channel="chat"),
           Filters(tier="2"), Filters(team="desk", priority="P1"))


def random_history(rnd: random.Random, tickets: int = 60) -> History:
    h = History()
    for _ in range(tickets):
        at = T0 + timedelta(minutes=rnd.randrange(0, 9 * 24 * 60))
        tid = h.ticket(at, channel=rnd.choice(("email", "chat", "phone")),
                       priority=rnd.choice(("P1", "P2", "P3")),
                       category=rnd.choice(("network", "printing")),
                       requester=f"r{rnd.randrange(8)}")
        steps = rnd.randrange(0, 7)
        for _ in range(steps):
            # Mostly forward in time; now and then an event older than the one before it.
            at += rnd.choice((-2 * H, 10 * M, H, 6 * H, D, 2 * D))
            move = rnd.random()
            if move < 0.25:
                h.assign(tid, at, tier=rnd.randint(1, 2), team=rnd.choice(TEAMS),
                         agent_id=rnd.choice(AGENTS))
            elif move < 0.4 and tid in h.team:
                h.transfer(tid, at, to_team=rnd.choice(TEAMS), to_agent=rnd.choice(AGENTS))
            elif move < 0.5 and tid in h.team:
                h.escalate(tid, at, to_tier=2, to_team=rnd.choice(TEAMS), to_agent="a3")
            elif move < 0.55:
                h.reply(tid, at, rnd.choice(AGENTS))
            elif move < 0.6:
                h.work(tid, at, rnd.randrange(60, 1800), kind=rnd.choice(("talk", "research")),
                       agent_id=rnd.choice(AGENTS))
            elif move < 0.8 and h.status[tid] not in ("resolved", "closed"):
                h.resolve(tid, at, rnd.choice(AGENTS))
                if rnd.random() < 0.7:
                    h.sla_met(tid, "resolution", at)
                else:
                    h.sla_breached(tid, "resolution", at)
                if rnd.random() < 0.5:
                    h.survey(tid, at + H, {"csat": rnd.randint(1, 5)}, at + 3 * H,
                             agent_id=rnd.choice(AGENTS), kinds=("csat",))
            elif move < 0.9 and h.status[tid] == "resolved":
                h.reopen(tid, at)
            elif h.status[tid] == "resolved":
                h.close(tid, at)
    # A late event: the transfer comes after the resolution in the stream but happened a day
    # before it, so the stream is out of time order across several buckets.
    late = h.ticket(T0 + D, channel="chat")
    h.assign(late, T0 + D + H, team="desk", agent_id="a1")
    h.resolve(late, T0 + 4 * D, "a1")
    h.transfer(late, T0 + 2 * D, to_team="net", to_agent="a2")
    # Events exactly at bucket edges: an event at a cutoff is not yet seen as of it.
    edge = h.ticket(T0 + 3 * D, channel="phone")
    h.assign(edge, T0 + 3 * D + 6 * H, team="apps", agent_id="a3")
    h.transfer(edge, T0 + 3 * D + 12 * H, to_team="net", to_agent="a2")
    h.resolve(edge, T0 + 4 * D, "a2")
    return h


async def test_the_sweep_reads_what_each_bucket_reads_alone(engine: AsyncEngine) -> None:
    rnd = random.Random(20261203)
    await feed(engine, random_history(rnd).envelopes)
    edges = [(T0 + k * 6 * H, T0 + (k + 1) * 6 * H) for k in range(44)]
    windows = [Query(start=lo, end=hi).window() for lo, hi in edges]
    seen: dict[Filters, int] = {}
    async with engine.connect() as conn:
        for filters in FILTERS:
            swept = {i: loaded async for i, loaded in store._swept(conn, windows, filters)}
            each = {i: loaded async for i, loaded in store._each(conn, windows, filters)}
            assert swept.keys() == each.keys() == set(range(len(windows)))
            for i in each:
                assert swept[i].facts == each[i].facts, (filters, windows[i])
                assert swept[i].rejected == each[i].rejected, (filters, windows[i])
            seen[filters] = sum(len(loaded.facts) for loaded in each.values())
    # Enough happened for the comparison to mean something: many facts, some filtered out.
    assert seen[Filters()] > 500 and 0 < seen[Filters(team="net")] < seen[Filters()]


async def test_a_series_of_several_kpis_equals_a_report_per_bucket(engine: AsyncEngine) -> None:
    rnd = random.Random(7)
    await feed(engine, random_history(rnd, tickets=40).envelopes)
    names = ["ticket_volume", "opened_vs_resolved", "backlog", "resolution_time",
             "first_contact_resolution", "transfer_rate", "repeat_incidents",
             "average_handle_time", "sla_compliance", "csat"]
    query = Query(start=T0 + 12 * H, end=T0 + 8 * D)
    async with engine.connect() as conn:
        for filters in FILTERS[:3]:
            asked = replace(query, filters=filters)
            series = await series_many(conn, LIVE, asked, names, "day", ZoneInfo("UTC"))
            assert list(series) == names
            for b, point in enumerate(series["backlog"]):
                bucket = replace(asked, start=point["from"], end=point["to"])
                alone = {e["name"]: e for e in await kpi_report(conn, LIVE, bucket, tuple(names),
                                                               trend=False)}
                for name in names:
                    got = {k: v for k, v in series[name][b].items() if k not in ("from", "to")}
                    want = {k: alone[name][k] for k in got}
                    assert got == want, (filters, b, name)
    assert len(series["backlog"]) == 9  # Jan 5 from 21:00, Jan 6-12, Jan 13 to 09:00


async def test_a_breakdown_equals_a_filtered_report_per_value(engine: AsyncEngine) -> None:
    rnd = random.Random(11)
    await feed(engine, random_history(rnd, tickets=50).envelopes)
    names = ["ticket_volume", "resolution_time", "first_contact_resolution", "backlog",
             "transfer_rate", "average_handle_time", "reopen_rate", "sla_compliance", "csat",
             "survey_response_rate"]
    for base in (Query(start=T0, end=T0 + 6 * D), Query(start=T0, end=T0 + 9 * D,
                                                         as_of=T0 + 4 * D)):
        async with engine.connect() as conn:
            for by in ("team", "agent", "tier", "channel"):
                for name in names:
                    rows = await breakdown(conn, LIVE, base, name, by)
                    assert len(rows) >= 2, (by, name)
                    for row in rows:
                        asked = replace(base, filters=replace(base.filters, **{by: row[by]}))
                        alone = (await kpi_report(conn, LIVE, asked, (name,), trend=False))[0]
                        assert {k: row[k] for k in row if k != by} == {
                            k: alone[k] for k in row if k != by}, (by, name, row[by])
