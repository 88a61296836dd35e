"""Through the real broker: live consumption, then a rebuild from offset 0 equals live, KPI for KPI."""

from __future__ import annotations

import asyncio
import gc
import random
import time
import uuid
from typing import Any

import httpx
import sqlalchemy as sa
from asgi_lifespan import LifespanManager

from helpdesk.testing.auth import NO_AUTH
from helpdesk_events.codec import encode
from helpdesk_events.kafka import make_producer
from helpdesk_metrics.app import create_app
from helpdesk_metrics.config import MetricsSettings
from helpdesk_runtime.db import create_engine
from helpdesk_runtime.settings import KafkaSettings

from ..conftest import D, T0, build_reference



def stable(kpis: list[dict[str, Any]]) -> dict[str, Any]:
    return {k["name"]: {f: k[f] for f in ("value", "numerator", "denominator", "mean", "median",
                                          "p90", "breakdown", "details", "trend")} for k in kpis}


async def test_rebuild_from_offset_zero_equals_live(db_url: str, kafka_bootstrap: str) -> None:
    # The broker outlives the test: a period of its own keeps other runs out of the window.
    t0 = T0 - 28 * D * random.randrange(1, 500)
    scenario = build_reference(t0)
    window = {"from": t0.isoformat(), "to": (t0 + 7 * D).isoformat()}
    # A group of its own: the e2e metrics process may share this broker.
    app = create_app(MetricsSettings(
        auth=NO_AUTH,
        name=f"metrics-it-{uuid.uuid4().hex[:8]}", database_url=db_url, log_level="WARNING",
        log_json=False, gauge_refresh_seconds=0, kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap)))
    async with LifespanManager(app, startup_timeout=60):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://m") as http:
            producer = make_producer(kafka_bootstrap)
            await producer.start()
            try:
                for envelope in scenario.history.envelopes:
                    record = encode(envelope)
                    await producer.send_and_wait(record.topic, record.value, key=record.key,
                                                 headers=list(record.headers))
            finally:
                await producer.stop()

            async def kpis(**extra: str) -> dict[str, Any]:
                response = await http.get("/v1/kpis", params={**window, **extra})
                assert response.status_code == 200, response.text
                return stable(response.json()["kpis"])

            deadline = time.monotonic() + 90
            live = await kpis()
            while time.monotonic() < deadline:
                live = await kpis()
                if (live["agent_availability"]["denominator"] == 4 * 7 * 86400
                        and live["ticket_volume"]["value"] == 4 and live["sla_breaches"]["value"] == 1
                        and live["survey_response_rate"]["numerator"] == 3
                        and live["reopen_rate"]["numerator"] == 1):
                    break
                await asyncio.sleep(0.25)
            assert live["ticket_volume"]["value"] == 4
            await asyncio.sleep(0.5)  # anything still in flight lands before the snapshot
            live = await kpis()
            live_as_of = await kpis(as_of=(t0 + D).isoformat())

            schema = await schema_of(db_url)
            gc.freeze()  # as `helpdesk serve` does: a rebuild must leave the process frozen
            try:
                for _ in range(2):  # the second one replaces tables the first one built
                    response = await http.post("/v1/admin/rebuild")
                    assert response.status_code == 200, response.text
                    assert response.json()["records"] >= len(scenario.history.envelopes)
                    assert gc.get_freeze_count() > 0

                    # The results kept before are not reused: the rows were replaced.
                    reused = app.state.settled_results.reused
                    assert await kpis() == live
                    assert app.state.settled_results.reused == reused
                    assert await kpis(as_of=(t0 + D).isoformat()) == live_as_of
                    assert await schema_of(db_url) == schema
            finally:
                gc.unfreeze()


async def schema_of(url: str) -> list[tuple[Any, ...]]:
    """Tables, columns, indexes and constraints as PostgreSQL describes them (SQLite: [])."""
    if not url.startswith("postgresql"):
        return []
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            tables = (await conn.execute(sa.text(
                "SELECT table_name, column_name, data_type, is_nullable, column_default "
                "FROM information_schema.columns WHERE table_schema = 'public' "
                "ORDER BY table_name, ordinal_position"))).all()
            indexes = (await conn.execute(sa.text(
                "SELECT tablename, indexname, indexdef FROM pg_indexes "
                "WHERE schemaname = 'public' ORDER BY indexname"))).all()
            constraints = (await conn.execute(sa.text(
                "SELECT conrelid::regclass::text, conname, contype FROM pg_constraint "
                "WHERE connamespace = 'public'::regnamespace ORDER BY conname"))).all()
    finally:
        await engine.dispose()
    return [tuple(r) for r in (*tables, *indexes, *constraints)]
