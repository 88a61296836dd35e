"""A run of events in one transaction (the consumer's batch) writes the rows of one per transaction."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from helpdesk_events.envelope import Envelope
from helpdesk_events.inbox import transactional_handler
from helpdesk_metrics.app import MIGRATIONS
from helpdesk_metrics.handlers import handle
from helpdesk_metrics.rows import fact_from_row, utc
from helpdesk_metrics.tables import sla_outcomes, survey_answers, surveys, ticket_events, ticket_facts
from helpdesk_runtime.db import create_engine
from helpdesk_runtime.migrations import upgrade

from ..conftest import H, M, T0, build_reference
# `engine`: the migrated database fixture of the projection tests, shared.
from .test_projections import engine, shuffled_across_topics  # noqa: F401


def history() -> list[Envelope]:
    """The reference scenario, with calendars that change back and forth and late events."""
    scenario = build_reference()
    h, b = scenario.history, scenario.tickets["B"]
    h.calendar("office", T0 - H, [(d, "09:00", "17:00") for d in range(5)])
    envelopes = shuffled_across_topics(list(h.envelopes), seed=3)
    known = len(h.envelopes)
    for i, calendar in enumerate(("office", "office", "24x7", "office")):
        h.clock(b, T0 + H + i * M, calendar, target="first_response" if i % 2 else "resolution")
    envelopes += h.envelopes[known:]  # in this order: the last calendar wins
    escalation = next(e for e in envelopes if e.type.endswith("escalated.v1"))
    created = next(e for e in envelopes if e.type.endswith("created.v1")
                   and e.data.ticket_id == scenario.tickets["C"])
    # Each arrives after later events of its ticket: a refold.
    envelopes.remove(escalation)
    envelopes.remove(created)
    return envelopes + [escalation, created]


async def feed(engine: AsyncEngine, envelopes: Sequence[Envelope], run: int) -> None:
    apply = transactional_handler(engine, "metrics", handle)
    for i in range(0, len(envelopes), run):
        await apply.batch(envelopes[i:i + run])


def _row(row: Any) -> tuple[Any, ...]:
    return tuple(utc(v) if hasattr(v, "tzinfo") else v for v in row)


async def contents(engine: AsyncEngine) -> dict[str, Any]:
    """Every projection row, in a form that compares across SQLite and PostgreSQL."""
    async with engine.connect() as conn:
        facts = (await conn.execute(sa.select(ticket_facts))).mappings().all()
        out: dict[str, Any] = {"facts": sorted((fact_from_row(r) for r in facts),
                                               key=lambda f: f.ticket_id)}
        for table in (ticket_events, sla_outcomes, surveys, survey_answers):
            rows = (await conn.execute(sa.select(table))).all()
            out[table.name] = sorted((_row(r) for r in rows), key=repr)
    return out


async def one_per_transaction(envelopes: Iterable[Envelope]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp}/m.db")
        await upgrade(engine, MIGRATIONS)
        try:
            await feed(engine, list(envelopes), 1)
            return await contents(engine)
        finally:
            await engine.dispose()


@pytest.mark.parametrize("run", [4, 1000])
async def test_runs_in_one_transaction_write_the_rows_of_one_event_per_transaction(
        engine: AsyncEngine, run: int) -> None:
    envelopes = history()
    expected = await one_per_transaction(envelopes)
    await feed(engine, envelopes, run)
    got = await contents(engine)
    assert got == expected
    b = next(f for f in got["facts"] if f.escalations)
    assert b.calendar_id == "office" and b.tier == 2  # the last clock's; the late escalation's
    c = next(f for f in got["facts"] if f.transfers)
    assert c.created_at is not None and c.team == "net"  # created late, transferred before


async def test_a_run_delivered_again_in_one_transaction_changes_nothing(engine: AsyncEngine) -> None:
    envelopes = history()
    await feed(engine, envelopes, 1000)
    once = await contents(engine)
    async with engine.begin() as conn:  # past the inbox: every write is keyed
        for envelope in envelopes:
            await handle(conn, envelope)
    assert await contents(engine) == once
