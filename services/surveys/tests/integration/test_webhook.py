"""The webhook sender against a tiny local HTTP server: signature, retries with backoff."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from helpdesk.testing.auth import NO_AUTH
from helpdesk_surveys import webhook
from helpdesk_surveys.app import create_app
from helpdesk_surveys.config import SurveysSettings

from .conftest import Clock, Surveys, unreachable_kafka  # noqa: TID252

SECRET = "hook-secret-0123456789"


class Receiver:
    """Answers with the queued statuses in turn (then 200) and keeps what it got."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.received: list[tuple[dict[str, str], bytes]] = []


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    state = Receiver([500, 503])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append((dict(self.headers.items()), body))
            status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


async def test_webhook_posts_signed_events_and_retries_with_backoff(
    sqlite_url: str, receiver
) -> None:
    state, url = receiver
    settings = SurveysSettings(
        auth=NO_AUTH,
        database_url=sqlite_url,
        kafka=unreachable_kafka(),
        webhook_url=url,
        webhook_secret=SECRET,
        webhook_backoff_seconds=10,
        webhook_max_attempts=5,
    )
    clock = Clock()
    app = create_app(settings, clock=clock, run_jobs=False)
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as http,
    ):
        desk = Surveys(app, http, clock, settings)
        response = await http.post("/v1/agent-surveys", json={"agents": [{"id": "agent-1"}]})
        assert response.status_code == 201
        engine = app.state.runtime.engine
        async with httpx.AsyncClient() as client:
            assert await webhook.deliver_due(engine, settings, client, clock.now) == 0  # 500
            assert (
                await webhook.deliver_due(engine, settings, client, clock.now) == 0
            )  # not due yet
            clock.advance(seconds=9)
            assert await webhook.deliver_due(engine, settings, client, clock.now) == 0
            clock.advance(seconds=1)
            assert (
                await webhook.deliver_due(engine, settings, client, clock.now) == 0
            )  # 503, next in 20 s
            clock.advance(seconds=19)
            assert await webhook.deliver_due(engine, settings, client, clock.now) == 0
            clock.advance(seconds=1)
            assert await webhook.deliver_due(engine, settings, client, clock.now) == 1
            clock.advance(days=1)
            assert await webhook.deliver_due(engine, settings, client, clock.now) == 0
        assert len(state.received) == 3
        [sent] = await desk.published("survey.sent.v1")
        for headers, body in state.received:
            timestamp = headers[webhook.TIMESTAMP_HEADER]
            expected = hmac.new(
                SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256
            ).hexdigest()
            assert headers[webhook.SIGNATURE_HEADER] == f"sha256={expected}"
            document = json.loads(body)
            assert document["type"] == "helpdesk.survey.sent.v1"
            assert document["data"]["link"] == sent.data.link


async def test_webhook_gives_up_after_max_attempts(sqlite_url: str, receiver) -> None:
    state, url = receiver
    state.statuses[:] = [500] * 10
    settings = SurveysSettings(
        auth=NO_AUTH,
        database_url=sqlite_url,
        kafka=unreachable_kafka(),
        webhook_url=url,
        webhook_secret=SECRET,
        webhook_backoff_seconds=1,
        webhook_max_attempts=2,
    )
    clock = Clock()
    app = create_app(settings, clock=clock, run_jobs=False)
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as http,
    ):
        await http.post("/v1/agent-surveys", json={"agents": [{"id": "agent-1"}]})
        async with httpx.AsyncClient() as client:
            for _ in range(5):
                await webhook.deliver_due(app.state.runtime.engine, settings, client, clock.now)
                clock.advance(seconds=timedelta(hours=1).total_seconds())
    assert len(state.received) == 2
