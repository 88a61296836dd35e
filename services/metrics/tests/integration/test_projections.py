"""Envelopes straight into the handlers on SQLite and PostgreSQL: duplicates, disorder, as_of."""

from __future__ import annotations

import random
import tempfile
from collections.abc import AsyncIterator, Iterable
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from helpdesk_businesstime import Calendar
from helpdesk_events.envelope import Envelope
from helpdesk_events.inbox import transactional_handler
from helpdesk_events.tickets import TicketEvent
from helpdesk_metrics.app import MIGRATIONS
from helpdesk_metrics.handlers import handle
from helpdesk_metrics.reports import Query, Reader, kpi_report
from helpdesk_metrics.dataset import Dataset
from helpdesk_metrics.store import Filters, load_dataset, load_datasets
from helpdesk_runtime.db import create_engine
from helpdesk_runtime.migrations import upgrade

from ..conftest import D, H, M, T0, Scenario, build_reference

END = T0 + 7 * D
LIVE = Reader(now=END, default_calendar=Calendar.always_open())  # cutoff == now: live rows
PAST = Reader(now=END + 365 * D, default_calendar=Calendar.always_open())  # refold from events


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(db_url)
    await upgrade(engine, MIGRATIONS)
    try:
        yield engine
    finally:
        await engine.dispose()


async def feed(engine: AsyncEngine, envelopes: Iterable[Envelope]) -> None:
    apply = transactional_handler(engine, "metrics", handle)
    for envelope in envelopes:
        await apply(envelope)


async def report(engine: AsyncEngine, reader: Reader = LIVE, **query: Any) -> dict[str, dict[str, Any]]:
    q = Query(start=query.pop("start", T0), end=query.pop("end", END), **query)
    async with engine.connect() as conn:
        return {e["name"]: e for e in await kpi_report(conn, reader, q)}


def values(rep: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {name: {k: e[k] for k in ("value", "numerator", "denominator", "mean", "median",
                                     "p90", "breakdown", "details")} for name, e in rep.items()}


async def test_projections_give_the_hand_computed_kpis_live_and_refolded(engine: AsyncEngine) -> None:
    scenario = build_reference()
    await feed(engine, scenario.history.envelopes)
    live, past = await report(engine, LIVE), await report(engine, PAST)
    assert values(live) == values(past)
    assert live["ticket_volume"]["value"] == 4
    assert live["backlog"]["value"] == 2
    assert (live["first_contact_resolution"]["numerator"], live["first_contact_resolution"]["denominator"]) == (1, 3)
    assert live["resolution_time"]["mean"] == (7200 + 28800 + 18000) / 3
    assert live["requester_wait_time"]["median"] == 14400
    assert live["sla_compliance"]["value"] == 0.8
    assert live["csat"]["value"] == 0.5 and live["nps"]["value"] == 0
    assert live["survey_response_rate"]["value"] == 3 / 4
    assert live["agent_utilization"]["numerator"] == 900
    assert live["cost_per_ticket"]["denominator"] == 3
    assert live["change_success_rate"]["value"] == 0
    assert live["first_response_time"]["status"] == "met"  # mean 1 h <= 4 h
    assert live["ticket_volume"]["trend"]["previous"] == 1  # E, created T0 - 2 d


async def test_every_event_delivered_twice_gives_identical_kpis(engine: AsyncEngine) -> None:
    scenario = build_reference()
    await feed(engine, scenario.history.envelopes)
    once = values(await report(engine))
    await feed(engine, scenario.history.envelopes)  # redelivery: the inbox drops it
    async with engine.begin() as conn:  # and even past the inbox, the projections are keyed
        for envelope in scenario.history.envelopes:
            await handle(conn, envelope)
    assert values(await report(engine)) == once


def shuffled_across_topics(envelopes: list[Envelope], seed: int) -> list[Envelope]:
    """A random interleaving that keeps each ticket's own events in order (as Kafka does)."""
    rng = random.Random(seed)
    tickets = [e for e in envelopes if isinstance(e.data, TicketEvent)]
    others = [e for e in envelopes if not isinstance(e.data, TicketEvent)]
    rng.shuffle(others)
    out: list[Envelope] = []
    while tickets or others:
        source = tickets if (tickets and (not others or rng.random() < 0.5)) else others
        out.append(source.pop(0))
    return out


async def test_events_of_different_topics_out_of_order_give_identical_kpis(engine: AsyncEngine) -> None:
    scenario = build_reference()
    ordered_first = await _fresh_report(scenario.history.envelopes)
    # Everything of sla/surveys/routing before any ticket event: surveys and SLA outcomes
    # arrive before the ticket they refer to.
    rest_first = sorted(scenario.history.envelopes, key=lambda e: isinstance(e.data, TicketEvent))
    await feed(engine, rest_first)
    assert values(await report(engine)) == ordered_first
    assert values(await report(engine, PAST)) == ordered_first


async def test_random_interleavings_give_identical_kpis() -> None:
    scenario = build_reference()
    expected = await _fresh_report(scenario.history.envelopes)
    for seed in (1, 2):
        assert await _fresh_report(shuffled_across_topics(scenario.history.envelopes, seed)) == expected


async def test_a_ticket_event_arriving_late_is_refolded_in_stream_order(engine: AsyncEngine) -> None:
    scenario = build_reference()
    expected = await _fresh_report(scenario.history.envelopes)
    envelopes = list(scenario.history.envelopes)
    b = scenario.tickets["B"]
    escalation = next(e for e in envelopes if e.type.endswith("escalated.v1") and e.data.ticket_id == b)
    envelopes.remove(escalation)
    await feed(engine, envelopes + [escalation])
    assert values(await report(engine)) == expected


async def test_as_of_a_past_instant_gives_the_values_of_that_instant(engine: AsyncEngine) -> None:
    scenario = build_reference()
    await feed(engine, scenario.history.envelopes)
    as_of = T0 + 2 * H + 30 * M
    rep = await report(engine, LIVE, as_of=as_of)
    # By T0 + 2 h 30: A B C created; A resolved at +2 h (B at +9 h not yet); backlog B C E.
    assert rep["ticket_volume"]["value"] == 3
    assert rep["backlog"]["value"] == 3
    assert rep["opened_vs_resolved"]["value"] == 1 / 3
    assert rep["resolution_time"]["mean"] == 7200
    # first replies by then: A 30 min, C 30 min (B's at +3 h not yet)
    assert rep["first_response_time"]["mean"] == 1800
    # SLA: A first response + resolution met, B first response breached at +2 h
    assert (rep["sla_compliance"]["numerator"], rep["sla_compliance"]["denominator"]) == (2, 3)
    assert rep["escalation_rate"]["numerator"] == 0  # B escalated at +6 h
    assert rep["transfer_rate"]["numerator"] == 0  # C transferred at +3 h
    # csat answered at +3 h: none yet; agent satisfaction answered at +2 h
    assert rep["csat"]["value"] is None
    assert rep["agent_satisfaction"]["value"] == 4
    # work by then: A research 600 s, B talk 300 s; online: a1 2.5 h, a2 2.5 h (a3, a4 later)
    assert rep["agent_utilization"]["numerator"] == 900
    assert rep["agent_utilization"]["denominator"] == 2 * 2.5 * 3600


async def test_filters_slice_every_kpi(engine: AsyncEngine) -> None:
    scenario = build_reference()
    await feed(engine, scenario.history.envelopes)
    network = await report(engine, filters=Filters(category="network"))
    assert network["ticket_volume"]["value"] == 2  # A C
    assert network["sla_compliance"]["denominator"] == 3  # A twice, C once
    assert network["csat"]["denominator"] == 1  # A's answer
    tier2 = await report(engine, filters=Filters(tier="2"))
    assert tier2["ticket_volume"]["value"] == 1  # B
    a1 = await report(engine, filters=Filters(agent="a1"))
    assert a1["ticket_volume"]["value"] == 2  # A D (C moved to a4)
    assert a1["agent_utilization"]["numerator"] == 600


async def test_business_hours_use_the_sla_calendar_of_the_ticket(engine: AsyncEngine) -> None:
    scenario = build_reference()
    h = scenario.history
    h.calendar("office", T0 - D, [(d, "09:00", "17:00") for d in range(5)])
    h.clock(scenario.tickets["B"], T0 + H, "office")
    await feed(engine, h.envelopes)
    rep = await report(engine, business_hours=True)
    # B: 10:00 -> 18:00 on office hours = 7 h; A and D stay 24x7 (no SLA clock): 2 h and 5 h
    assert rep["resolution_time"]["mean"] == (7200 + 7 * 3600 + 5 * 3600) / 3


async def _fresh_report(envelopes: list[Envelope]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp}/m.db")
        await upgrade(engine, MIGRATIONS)
        try:
            await feed(engine, envelopes)
            return values(await report(engine))
        finally:
            await engine.dispose()


async def test_filters_apply_to_the_facts_as_of_the_cutoff(engine: AsyncEngine) -> None:
    scenario = build_reference()
    await feed(engine, scenario.history.envelopes)
    # C is a1's from +2 h and a4's from its transfer at +3 h: as of +2.5 h it counts for a1.
    before = T0 + 2 * H + 30 * M
    a1 = await report(engine, filters=Filters(agent="a1"), as_of=before)
    a4 = await report(engine, filters=Filters(agent="a4"), as_of=before)
    assert (a1["ticket_volume"]["value"], a4["ticket_volume"]["value"]) == (2, 0)  # A C
    net = await report(engine, filters=Filters(team="net"), as_of=before)
    assert net["ticket_volume"]["value"] == 0
    # Live, C has moved on.
    a4_now = await report(engine, filters=Filters(agent="a4"))
    assert a4_now["ticket_volume"]["value"] == 1


def _canonical(ds: Dataset) -> Dataset:
    # Rows come in no particular order (a series slices one read sorted by time).
    def ordered(rows: tuple) -> tuple:
        return tuple(sorted(rows, key=repr))
    return replace(ds, facts=tuple(sorted(ds.facts, key=lambda f: f.ticket_id)),
                   events=ordered(ds.events), sla=ordered(ds.sla), sent=ordered(ds.sent),
                   answers=ordered(ds.answers), agent_statuses=ordered(ds.agent_statuses))


@pytest.mark.parametrize("filters", [Filters(), Filters(agent="a1"), Filters(team="net"),
                                     Filters(category="network")])
async def test_windows_loaded_together_equal_windows_loaded_alone(engine: AsyncEngine,
                                                                  filters: Filters) -> None:
    scenario = build_reference()
    await feed(engine, scenario.history.envelopes)
    # A trend pair (the earlier window reuses the later one's untouched rows) and hourly buckets.
    trend = Query(start=T0 + 4 * H, end=T0 + 8 * H).window()
    windows = [trend, trend.previous()] + [
        Query(start=T0 + i * H, end=T0 + (i + 1) * H).window() for i in range(0, 12, 3)]
    options = {"business_hours": False, "default_calendar": Calendar.always_open()}
    async with engine.connect() as conn:
        together = await load_datasets(conn, windows, filters, **options)
        alone = [await load_dataset(conn, w, filters, **options) for w in windows]
    assert [_canonical(ds) for ds in together] == [_canonical(ds) for ds in alone]
    assert any(ds.facts for ds in together[1:])
