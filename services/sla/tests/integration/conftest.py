"""The sla app in-process on a real database (SQLite and PostgreSQL); no broker is needed:
published events stay in the outbox, where the tests read them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from helpdesk.testing.auth import NO_AUTH
from helpdesk_events.codec import decode
from helpdesk_events.envelope import Envelope, new_envelope
from helpdesk_events.inbox import transactional_handler
from helpdesk_events.tables import OUTBOX_TABLE
from helpdesk_events.tickets import TicketEvent
from helpdesk_runtime.settings import KafkaSettings
from helpdesk_sla.app import create_app
from helpdesk_sla.config import SlaSettings
from helpdesk_sla.handlers import make_handler


@dataclass
class Sla:
    """The running app, an HTTP client, and ways to feed ticket events and read published ones."""

    app: FastAPI
    http: httpx.AsyncClient

    @property
    def runtime(self):  # type: ignore[no-untyped-def]
        return self.app.state.runtime

    async def feed(self, *events: TicketEvent) -> None:
        """Deliver ticket events as the consumer would (inbox transaction, handler)."""
        handle = transactional_handler(
            self.runtime.engine, "sla", make_handler(self.app.state.scheduler)
        )
        for event in events:
            await handle(
                new_envelope(
                    event, source="intake", subject=str(event.ticket_id), time=event.occurred_at
                )
            )

    async def published(self, ticket_id: uuid.UUID | None = None) -> list[Envelope]:
        """SLA events in the outbox (optionally of one ticket), in order."""
        async with self.runtime.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(OUTBOX_TABLE.c.value).order_by(OUTBOX_TABLE.c.position)
                )
            ).all()
        envelopes = [decode(row.value) for row in rows]
        return [e for e in envelopes if ticket_id is None or e.subject == str(ticket_id)]


@asynccontextmanager
async def running_sla(db_url: str, **settings: Any) -> AsyncIterator[Sla]:
    """The sla app on `db_url` (settings overridable), started, with a client."""
    app = create_app(SlaSettings(
        auth=NO_AUTH,
        database_url=db_url,
        log_json=False,
        **{"scheduler_max_sleep": 30.0, "kafka": KafkaSettings(bootstrap_servers="127.0.0.1:1"),
           **settings},
    ))
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as http,
    ):
        yield Sla(app, http)


@pytest.fixture
async def sla(db_url: str) -> AsyncIterator[Sla]:
    async with running_sla(db_url) as running:
        yield running


def utcnow() -> datetime:
    return datetime.now(UTC)
