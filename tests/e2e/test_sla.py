"""SLA clocks across real processes: on-time breaches, pauses, warnings, a crash, simulation.

Ticket events come from intake's REST API where it has the endpoint (creation), otherwise
the test publishes them on `helpdesk.tickets` itself, exactly as intake would (same codec,
keyed by ticket id). Policies with 2-second targets are created through sla's REST API with
conditions on a category unique to each test; SLA events are read back from `helpdesk.sla`
with a plain consumer from the beginning, filtered by the test's ticket ids.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import httpx
from aiokafka import AIOKafkaProducer
from helpdesk_events import topics
from helpdesk_events.codec import decode, encode
from helpdesk_events.envelope import Envelope, new_envelope
from helpdesk_events.kafka import make_producer, read_topic_from_start
from helpdesk_events.sla import (
    ClockPaused,
    ClockResumed,
    ClockStarted,
    SlaBreached,
    SlaWarning,
    Target,
)
from helpdesk_events.tickets import (
    Actor,
    CommentAdded,
    Requester,
    Status,
    StatusChanged,
    TicketCreated,
    TicketEvent,
    TicketResolved,
)

from .conftest import System

AGENT = Actor(id="a-1", role="agent")
REQUESTER = Actor(id="u-1", role="requester")


def now() -> datetime:
    return datetime.now(UTC)


def unique_category() -> str:
    return f"e2e/sla-{uuid.uuid4().hex[:8]}"


async def add_policy(
    http: httpx.AsyncClient, system: System, category: str, **fields: object
) -> None:
    body = {"conditions": {"categories": [category]}, "order": 0, **fields}
    response = await http.post(f"{system.urls['sla']}/v1/policies", json=body)
    assert response.status_code == 201, response.text


class TicketFeed:
    """Publishes ticket events as intake would."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self.producer = producer

    async def send(self, *events: TicketEvent) -> None:
        for event in events:
            record = encode(
                new_envelope(
                    event, source="intake", subject=str(event.ticket_id), time=event.occurred_at
                )
            )
            await self.producer.send_and_wait(
                record.topic, record.value, key=record.key, headers=list(record.headers)
            )


async def feed(kafka_bootstrap: str) -> tuple[TicketFeed, AIOKafkaProducer]:
    producer = make_producer(kafka_bootstrap, client_id="e2e-sla")
    await producer.start()
    return TicketFeed(producer), producer


def created(ticket_id: uuid.UUID, category: str, at: datetime | None = None) -> TicketCreated:
    return TicketCreated(
        ticket_id=ticket_id,
        occurred_at=at or now(),
        number="HD-9",
        subject="Mail is down",
        requester=Requester(id="u-1", org="Sales"),
        channel="email",
        type="incident",
        category=category,
        priority="P3",
        by=REQUESTER,
    )


def status(
    ticket_id: uuid.UUID, before: str, after: str, at: datetime | None = None
) -> StatusChanged:
    return StatusChanged(
        ticket_id=ticket_id,
        occurred_at=at or now(),
        from_status=Status(before),
        to_status=Status(after),
        by=AGENT,
    )


async def sla_events(
    bootstrap: str, ticket_ids: Iterable[uuid.UUID]
) -> list[tuple[Envelope, float]]:
    """SLA events of these tickets on helpdesk.sla (from the beginning), with when we read them."""
    wanted = {str(t) for t in ticket_ids}
    records = await read_topic_from_start(bootstrap, topics.SLA)
    seen = time.time()
    return [
        (decode(r.value), seen) for r in records if r.key is not None and r.key.decode() in wanted
    ]


async def wait_for_events(
    bootstrap: str, ticket_ids: Iterable[uuid.UUID], kind: type, count: int, timeout: float = 30.0
) -> list[tuple[Envelope, float]]:
    """Poll until `count` events of `kind` arrived for these tickets; returns all their SLA events."""
    ids = list(ticket_ids)
    deadline = time.monotonic() + timeout
    while True:
        events = await sla_events(bootstrap, ids)
        if (
            len({e.id for e, _ in events if isinstance(e.data, kind)}) >= count
            or time.monotonic() > deadline
        ):
            return events
        await asyncio.sleep(0.2)


def of(events: list[tuple[Envelope, float]], kind: type) -> list[Envelope]:
    unique: dict[uuid.UUID, Envelope] = {}
    for envelope, _ in events:
        if isinstance(envelope.data, kind):
            unique.setdefault(envelope.id, envelope)
    return list(unique.values())


async def test_two_second_first_response_warns_at_half_then_breaches_within_a_second_after_due(
    system: System, http: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    category = unique_category()
    await add_policy(
        http,
        system,
        category,
        targets={"first_response": 2},
        warn_at_percent=50,
        escalate_on_breach=True,
    )
    response = await http.post(
        f"{system.urls['intake']}/v1/tickets",
        json={
            "subject": "Laptop will not boot",
            "requester": {"id": "u-9", "org": "Sales"},
            "channel": "portal",
            "type": "incident",
            "category": category,
            "priority": "P3",
        },
    )
    assert response.status_code == 201, response.text
    ticket_id = uuid.UUID(response.json()["id"])
    events = await wait_for_events(kafka_bootstrap, [ticket_id], SlaBreached, 1)
    started = next(
        e.data for e in of(events, ClockStarted) if e.data.target is Target.FIRST_RESPONSE
    )
    (warning,) = of(events, SlaWarning)
    (breach,) = of(events, SlaBreached)
    # Never early, and in order on the ticket's partition (when intake's event reaches sla late,
    # both are overdue on arrival and fire in the same pass: warning first).
    assert started.warn_at <= warning.time <= breach.time
    order = [e.id for e, _ in events]
    assert order.index(warning.id) < order.index(breach.id)
    assert started.due_at <= breach.time <= started.due_at + timedelta(seconds=1)
    assert breach.data.escalate and breach.data.late_by_seconds <= 1
    sla = (await http.get(f"{system.urls['sla']}/v1/tickets/{ticket_id}/sla")).json()
    assert next(c for c in sla["clocks"] if c["target"] == "first_response")["breached"]


async def test_pending_ticket_does_not_breach_while_paused_and_breaches_later_by_the_paused_time(
    system: System, http: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    category = unique_category()
    await add_policy(http, system, category, targets={"first_response": 4})
    ticket_id = uuid.uuid4()
    tickets, producer = await feed(kafka_bootstrap)
    try:
        start = now()
        await tickets.send(created(ticket_id, category, start))
        await asyncio.sleep(0.5)
        await tickets.send(status(ticket_id, "new", "pending", start + timedelta(seconds=0.5)))
        await wait_for_events(kafka_bootstrap, [ticket_id], ClockPaused, 1)
        await asyncio.sleep((start + timedelta(seconds=5.5) - now()).total_seconds())
        # Well past the original due time (start + 4 s): nothing fired while paused.
        assert of(await sla_events(kafka_bootstrap, [ticket_id]), SlaBreached) == []
        await tickets.send(status(ticket_id, "pending", "open", start + timedelta(seconds=5.5)))
    finally:
        await producer.stop()
    events = await wait_for_events(kafka_bootstrap, [ticket_id], SlaBreached, 1)
    resumed = next(
        e.data for e in of(events, ClockResumed) if e.data.target is Target.FIRST_RESPONSE
    )
    (breach,) = of(events, SlaBreached)
    # 0.5 s counted before the pause, 3.5 s left after it: due 9 s after creation, i.e. 5 s
    # (the paused time) later than planned.
    assert resumed.due_at == start + timedelta(seconds=9)
    assert resumed.due_at <= breach.time <= resumed.due_at + timedelta(seconds=1)


async def test_sla_killed_while_clocks_run_fires_every_overdue_breach_once_after_restart(
    system: System, http: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    category = unique_category()
    await add_policy(http, system, category, targets={"first_response": 4})
    ticket_ids = [uuid.uuid4() for _ in range(6)]
    tickets, producer = await feed(kafka_bootstrap)
    try:
        await tickets.send(*(created(t, category) for t in ticket_ids))
    finally:
        await producer.stop()
    await wait_for_events(kafka_bootstrap, ticket_ids, ClockStarted, len(ticket_ids))
    system.kill("sla")
    killed_at = now()
    try:
        await asyncio.sleep(5.0)  # every due time passes while sla is down
    finally:
        restarting_at = now()
        await asyncio.to_thread(system.start, "sla")
    await wait_for_events(kafka_bootstrap, ticket_ids, SlaBreached, len(ticket_ids), timeout=60)
    await asyncio.sleep(2.0)  # a second firing would show up by now
    breaches = of(await sla_events(kafka_bootstrap, ticket_ids), SlaBreached)
    # One breach per ticket (redelivered copies share the event id), none twice.
    assert sorted(b.data.ticket_id for b in breaches) == sorted(ticket_ids)
    due_while_down = [b for b in breaches if b.data.due_at > killed_at]
    assert due_while_down, "the clocks were meant to come due while sla was down"
    for breach in due_while_down:
        # Fired after the restart, with its true lateness (the rest of the downtime).
        assert breach.time >= restarting_at
        true_late = (breach.time - breach.data.due_at).total_seconds()
        assert breach.data.late_by_seconds == int(true_late) >= 1


async def test_simulation_replays_stored_history_under_a_candidate_policy(
    system: System, http: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    category = unique_category()
    base = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
    hour = 3600

    def at(seconds: float) -> datetime:
        return base + timedelta(seconds=seconds)

    def reply(ticket_id: uuid.UUID, seconds: float) -> CommentAdded:
        return CommentAdded(
            ticket_id=ticket_id,
            occurred_at=at(seconds),
            comment_id=uuid.uuid4(),
            author=AGENT,
            public=True,
            body="Fixed?",
        )

    def resolved(ticket_id: uuid.UUID, seconds: float) -> TicketResolved:
        return TicketResolved(
            ticket_id=ticket_id, occurred_at=at(seconds), resolution_code="fixed", by=AGENT
        )

    a, b, c, d = (uuid.uuid4() for _ in range(4))
    histories = [
        [created(a, category, at(0)), reply(a, 30 * 60), resolved(a, 2 * hour)],
        [created(b, category, at(0)), reply(b, 90 * 60), resolved(b, 5 * hour)],
        [
            created(c, category, at(0)),
            status(c, "new", "pending", at(10 * 60)),
            status(c, "pending", "open", at(100 * 60)),
            reply(c, 110 * 60),
            resolved(c, 4.5 * hour),
        ],
        [created(d, category, at(0)), resolved(d, 3 * hour)],
    ]
    tickets, producer = await feed(kafka_bootstrap)
    try:
        for history in histories:
            await tickets.send(*history)
    finally:
        await producer.stop()
    # The session's services may still be working off what earlier tests sent: wait for ours.
    deadline = time.monotonic() + 120
    settled = False
    while not settled and time.monotonic() < deadline:
        views = [await http.get(f"{system.urls['sla']}/v1/tickets/{t}/sla") for t in (a, b, c, d)]
        settled = all(
            v.status_code == 200 and all(k["state"] != "running" for k in v.json()["clocks"])
            for v in views
        )
        if not settled:
            await asyncio.sleep(0.2)
    assert settled, [v.text for v in views]
    response = await http.post(
        f"{system.urls['sla']}/v1/policies/simulate",
        json={
            "policy": {
                "conditions": {"categories": [category]},
                "targets": {"first_response": hour, "resolution": 4 * hour},
            },
            "from": at(-hour).isoformat(),
            "to": at(hour).isoformat(),
        },
    )
    assert response.status_code == 200, response.text
    result = response.json()
    # By hand: first response met by A (30 min) and C (20 min counted), breached by B (90 min) and
    # D (3 h, answered by the resolution); resolution met by A (2 h), C (3 h counted), D (3 h),
    # breached by B (5 h).
    assert result["tickets"] == 4
    assert result["targets"]["first_response"] == {"met": 2, "breached": 2, "open": 0}
    assert result["targets"]["resolution"] == {"met": 3, "breached": 1, "open": 0}
    assert (result["met"], result["breached"]) == (5, 3)
