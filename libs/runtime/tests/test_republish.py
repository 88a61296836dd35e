"""`POST /v1/admin/republish` on every publisher: queues its published log again (409 without)."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
from asgi_lifespan import LifespanManager

from helpdesk_events.outbox import pending_count
from helpdesk_events.tables import PUBLISHED_TABLE, outbox_table, published_table
from helpdesk_runtime.app import build_app
from helpdesk_runtime.auth import AuthSettings
from helpdesk_runtime.runtime import ServiceRuntime
from helpdesk_runtime.settings import KafkaSettings, ServiceSettings


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Publisher:
    runtime: ServiceRuntime
    http: httpx.AsyncClient


@pytest.fixture
async def publisher(sqlite_url: str) -> AsyncIterator[Publisher]:
    """A publishing app on SQLite with an outbox but (yet) no published log; no broker."""
    settings = ServiceSettings(
        name="probe", port=0, database_url=sqlite_url, log_json=False,
        kafka=KafkaSettings(bootstrap_servers=f"127.0.0.1:{_closed_port()}"),
        auth=AuthSettings(enabled=False),
    )
    runtime = ServiceRuntime(settings, publishes=True)
    app = build_app(runtime, title="probe")
    async with LifespanManager(app):
        async with runtime.engine.begin() as conn:
            await conn.run_sync(outbox_table(sa.MetaData()).create)
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            yield Publisher(runtime, http)


async def _retain(runtime: ServiceRuntime, published_at: datetime) -> uuid.UUID:
    event_id = uuid.uuid4()
    async with runtime.engine.begin() as conn:
        await conn.run_sync(published_table(sa.MetaData()).create, checkfirst=True)
        await conn.execute(sa.insert(PUBLISHED_TABLE).values(
            position=int(published_at.timestamp() * 1000), event_id=event_id, event_type="t",
            topic="helpdesk.tickets", key=b"k", value=b"{}", headers=[], published_at=published_at))
    return event_id


async def test_a_publisher_without_a_published_log_answers_409(publisher: Publisher) -> None:
    answer = await publisher.http.post("/v1/admin/republish")
    assert answer.status_code == 409
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "replay" in answer.json()["detail"]


async def test_republish_queues_what_was_published_since_the_given_time(
    publisher: Publisher,
) -> None:
    now = datetime.now(UTC)
    await _retain(publisher.runtime, now - timedelta(hours=2))
    await _retain(publisher.runtime, now - timedelta(minutes=5))

    recent = await publisher.http.post("/v1/admin/republish",
                                       params={"since": (now - timedelta(hours=1)).isoformat()})
    assert recent.status_code == 202, recent.text
    assert recent.json()["queued"] == 1
    everything = await publisher.http.post("/v1/admin/republish")
    assert everything.status_code == 202
    assert everything.json()["queued"] == 2
    async with publisher.runtime.engine.connect() as conn:
        assert await pending_count(conn) == 3


async def test_since_without_time_zone_or_in_the_future_is_a_422_naming_it(
    publisher: Publisher,
) -> None:
    for since in ("2026-01-05T10:00:00", (datetime.now(UTC) + timedelta(hours=1)).isoformat()):
        answer = await publisher.http.post("/v1/admin/republish", params={"since": since})
        assert answer.status_code == 422
        assert [e["field"] for e in answer.json()["errors"]] == ["since"]


async def test_the_route_documents_its_problems(publisher: Publisher) -> None:
    schema = (await publisher.http.get("/openapi.json")).json()
    responses = schema["paths"]["/v1/admin/republish"]["post"]["responses"]
    assert {"202", "409", "422"} <= set(responses)
    assert "application/problem+json" in responses["409"]["content"]
    assert "example" in responses["202"]["content"]["application/json"]
