"""Ticket events in through the real broker topic, survey events out through the outbox relay.

Intake's resolve/reopen endpoints were not there when this was written, so ticket events are
produced straight onto `helpdesk.tickets` here (as intake would publish them).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone, UTC
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

from helpdesk.testing.auth import NO_AUTH
from helpdesk_events import topics
from helpdesk_events.codec import decode, encode
from helpdesk_events.envelope import Envelope, Event, new_envelope
from helpdesk_events.kafka import make_producer, read_topic_from_start
from helpdesk_runtime.settings import KafkaSettings
from helpdesk_surveys.app import create_app
from helpdesk_surveys.config import SurveysSettings

from .conftest import Clock, TicketLife  # noqa: TID252


async def eventually(probe: Callable[[], Any], timeout: float = 60.0) -> Any:
    """Poll the async `probe` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.2)


async def test_resolved_ticket_on_the_broker_leads_to_published_survey_events(
    sqlite_url: str, kafka_bootstrap: str
) -> None:
    category = f"it-{uuid.uuid4().hex[:8]}"  # other tests share the ticket topic: match only ours
    settings = SurveysSettings(
        auth=NO_AUTH,
        name=f"surveys-it-{uuid.uuid4().hex[:6]}",
        database_url=sqlite_url,
        poll_seconds=0.2,
        kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap),
    )
    app = create_app(settings)
    wall = Clock()
    surveyed, reopened = (
        TicketLife(wall, category=category),
        TicketLife(wall, category=category, requester="r-2"),
    )
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as http,
    ):
        policy = await http.post(
            "/v1/survey-policies",
            json={
                "name": "it",
                "trigger": "resolved",
                "questions": [{"kind": "csat"}, {"kind": "ces"}],
                "delay_seconds": 1,
                "conditions": {"categories": [category]},
            },
        )
        assert policy.status_code == 201, policy.text

        wall.now = datetime.now(UTC)
        events: list[Event] = [
            surveyed.created(),
            surveyed.assigned(agent="agent-3", team="desk"),
            surveyed.resolved(),
            reopened.created(),
            reopened.resolved(),
            reopened.reopened(),
        ]
        producer = make_producer(kafka_bootstrap)
        await producer.start()
        try:
            for event in events:
                record = encode(
                    new_envelope(
                        event, source="intake", subject=str(event.ticket_id), time=wall.now
                    )
                )
                await producer.send_and_wait(
                    record.topic, record.value, key=record.key, headers=list(record.headers)
                )
        finally:
            await producer.stop()

        async def survey_of(ticket: TicketLife, status: str) -> dict[str, Any] | None:
            items = (
                await http.get("/v1/surveys", params={"ticket_id": str(ticket.ticket_id)})
            ).json()["items"]
            return items[0] if items and items[0]["status"] == status else None

        sent = await eventually(lambda: survey_of(surveyed, "sent"))
        assert sent, "the survey was never sent"
        assert await eventually(lambda: survey_of(reopened, "cancelled"))

        async def on_topic(type_: str) -> list[Envelope]:
            records = await read_topic_from_start(kafka_bootstrap, topics.SURVEYS)
            found = [decode(r.value) for r in records]
            return [e for e in found if e.type == type_ and e.subject == sent["id"]]

        [sent_event] = await eventually(lambda: on_topic("helpdesk.survey.sent.v1"))
        assert (sent_event.data.ticket_id, sent_event.data.agent_id) == (
            surveyed.ticket_id,
            "agent-3",
        )
        token = sent_event.data.link.rsplit("/", 1)[1]
        answer = await http.post(
            f"/v1/surveys/{token}/responses",
            json={"answers": [{"kind": "csat", "score": 4}, {"kind": "ces", "score": 2}]},
        )
        assert answer.status_code == 201, answer.text

        [responded] = await eventually(lambda: on_topic("helpdesk.survey.responded.v1"))
        data = responded.data
        assert (data.ticket_id, data.agent_id, data.team, data.channel, data.category) == (
            surveyed.ticket_id,
            "agent-3",
            "desk",
            "email",
            category,
        )
        assert [(a.kind.value, a.score) for a in data.answers] == [("csat", 4), ("ces", 2)]
