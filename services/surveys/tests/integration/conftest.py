"""An in-process surveys app on a real database with a hand-driven clock and scheduler."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, UTC
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
import sqlalchemy as sa
from asgi_lifespan import LifespanManager

from helpdesk.testing.auth import NO_AUTH
from helpdesk_events.codec import decode
from helpdesk_events.envelope import Envelope, Event, new_envelope
from helpdesk_events.inbox import transactional_handler
from helpdesk_events.tables import OUTBOX_TABLE
from helpdesk_events.tickets import (
    Actor,
    ActorRole,
    Channel,
    CloseReason,
    Priority,
    Requester,
    TicketAssigned,
    TicketClosed,
    TicketCreated,
    TicketReopened,
    TicketResolved,
    TicketType,
    Tier,
)
from helpdesk_runtime.settings import KafkaSettings
from helpdesk_surveys import jobs
from helpdesk_surveys.app import create_app
from helpdesk_surveys.config import SurveysSettings

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AGENT = Actor(id="agent-7", role=ActorRole.AGENT)


@dataclass
class Clock:
    """A clock the test moves by hand."""

    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move time forward."""
        self.now += timedelta(**delta)


@dataclass
class TicketLife:
    """Builds the ticket events of one ticket, timed by the shared clock."""

    clock: Clock
    requester: str = "req-1"
    channel: Channel = Channel.EMAIL
    category: str | None = "network/vpn"
    ticket_id: UUID = field(default_factory=uuid4)

    def created(self) -> TicketCreated:
        """The ticket is logged."""
        return TicketCreated(
            ticket_id=self.ticket_id,
            occurred_at=self.clock.now,
            number="HD-1001",
            subject="VPN drops",
            requester=Requester(id=self.requester, email=f"{self.requester}@example.com"),
            channel=self.channel,
            type=TicketType.INCIDENT,
            category=self.category,
            priority=Priority.P3,
            by=Actor(id=self.requester, role=ActorRole.REQUESTER),
        )

    def assigned(self, agent: str = "agent-7", team: str = "network") -> TicketAssigned:
        """Routing put it with an agent."""
        return TicketAssigned(
            ticket_id=self.ticket_id,
            occurred_at=self.clock.now,
            tier=Tier.T1,
            team=team,
            agent=agent,
            by=Actor(id="routing", role=ActorRole.SYSTEM),
            reason="skills",
        )

    def resolved(self) -> TicketResolved:
        """The agent resolved it."""
        return TicketResolved(
            ticket_id=self.ticket_id, occurred_at=self.clock.now, resolution_code="fixed", by=AGENT
        )

    def reopened(self) -> TicketReopened:
        """The requester says it is not fixed."""
        return TicketReopened(
            ticket_id=self.ticket_id,
            occurred_at=self.clock.now,
            reason="still broken",
            by=Actor(id=self.requester, role=ActorRole.REQUESTER),
        )

    def closed(self) -> TicketClosed:
        """Closed for good."""
        return TicketClosed(
            ticket_id=self.ticket_id,
            occurred_at=self.clock.now,
            by=Actor(id="system", role=ActorRole.SYSTEM),
            reason=CloseReason.AUTO_CLOSE,
        )


@dataclass
class Surveys:
    """The app under test, its client, clock and a few drivers."""

    app: Any
    http: httpx.AsyncClient
    clock: Clock
    settings: SurveysSettings

    @property
    def runtime(self) -> Any:
        return self.app.state.runtime

    def ticket(self, **kw: Any) -> TicketLife:
        """A new ticket's event builder."""
        return TicketLife(self.clock, **kw)

    async def feed(self, *events: Event) -> None:
        """Deliver ticket events through the inbox-wrapped handler, as the consumer would."""
        handler = transactional_handler(
            self.runtime.engine, "surveys", self.runtime.subscriptions[0].handler
        )
        for event in events:
            await handler(
                new_envelope(
                    event, source="intake", subject=str(event.ticket_id), time=self.clock.now
                )
            )

    async def feed_envelope(self, envelope: Envelope) -> None:
        """Deliver one exact envelope (to test redelivery)."""
        handler = transactional_handler(
            self.runtime.engine, "surveys", self.runtime.subscriptions[0].handler
        )
        await handler(envelope)

    async def tick(self) -> jobs.Tick:
        """One scheduler pass at the clock's time."""
        return await jobs.tick(self.runtime.engine, self.settings, self.clock.now)

    async def published(self, type_suffix: str = "") -> list[Envelope]:
        """Envelopes queued in the outbox (no relay runs here), optionally of one event type."""
        async with self.runtime.engine.connect() as conn:
            values = (
                await conn.scalars(
                    sa.select(OUTBOX_TABLE.c.value).order_by(OUTBOX_TABLE.c.position)
                )
            ).all()
        envelopes = [decode(v) for v in values]
        return [e for e in envelopes if e.type.endswith(type_suffix)] if type_suffix else envelopes

    async def policy(self, **overrides: Any) -> dict[str, Any]:
        """Create a survey policy (CSAT on resolve, 1 h delay, 7 days expiry unless overridden)."""
        body: dict[str, Any] = {
            "name": f"p-{uuid4().hex[:6]}",
            "trigger": "resolved",
            "questions": [{"kind": "csat"}],
            "delay_seconds": 3600,
        }
        body.update(overrides)
        response = await self.http.post("/v1/survey-policies", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    async def surveys(self, **params: Any) -> list[dict[str, Any]]:
        """`GET /v1/surveys` items."""
        response = await self.http.get("/v1/surveys", params=params)
        assert response.status_code == 200, response.text
        return response.json()["items"]


def unreachable_kafka() -> KafkaSettings:
    """Kafka settings pointing nowhere: these tests drive the handler and jobs directly."""
    return KafkaSettings(bootstrap_servers="127.0.0.1:9")


@pytest.fixture
async def surveys(db_url: str) -> AsyncIterator[Surveys]:
    """The surveys app on SQLite and on PostgreSQL, jobs driven by the test."""
    settings = SurveysSettings(
        auth=NO_AUTH,
        database_url=db_url, kafka=unreachable_kafka(), public_url="https://desk.example"
    )
    clock = Clock()
    app = create_app(settings, clock=clock, run_jobs=False)
    async with LifespanManager(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url="http://t"
        ) as http:
            yield Surveys(app, http, clock, settings)
