"""Durable timers: warnings and breaches fire exactly once, never early, late ones at once."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta

import sqlalchemy as sa
from helpdesk_events.sla import ClockStarted, SlaBreached, SlaWarning
from helpdesk_events.tickets import Actor, CommentAdded, PriorityChanged, Requester, TicketCreated
from helpdesk_sla.store import as_utc
from helpdesk_sla.tables import sla_firings, sla_timers

from .conftest import Sla, running_sla, utcnow

CATEGORY = "tests/timers"


def created(ticket_id: uuid.UUID, at=None) -> TicketCreated:  # type: ignore[no-untyped-def]
    return TicketCreated(
        ticket_id=ticket_id,
        occurred_at=at or utcnow(),
        number="HD-7",
        subject="Disk full",
        requester=Requester(id="u-1"),
        channel="email",
        type="incident",
        category=CATEGORY,
        priority="P3",
        by=Actor(id="u-1", role="requester"),
    )


async def add_policy(sla: Sla, seconds: int, warn: int | None = 50) -> None:
    response = await sla.http.post(
        "/v1/policies",
        json={
            "id": "fast",
            "conditions": {"categories": [CATEGORY]},
            "warn_at_percent": warn,
            "targets": {"first_response": seconds},
            "escalate_on_breach": True,
        },
    )
    assert response.status_code == 201, response.text


async def wait_for(
    sla: Sla, ticket_id: uuid.UUID, kind: type, count: int = 1, timeout: float = 10.0
) -> list:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [e for e in await sla.published(ticket_id) if isinstance(e.data, kind)]
        if len(found) >= count:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {kind.__name__} for {ticket_id} within {timeout} s")


async def test_breach_fires_once_after_its_due_time_and_never_before(sla: Sla) -> None:
    await add_policy(sla, 2)
    ticket_id = uuid.uuid4()
    await sla.feed(created(ticket_id))
    started = next(
        e.data for e in await sla.published(ticket_id) if isinstance(e.data, ClockStarted)
    )
    (warning,) = await wait_for(sla, ticket_id, SlaWarning)
    (breach,) = await wait_for(sla, ticket_id, SlaBreached)
    assert warning.time >= started.warn_at
    assert started.due_at <= breach.time < started.due_at + timedelta(seconds=1)
    assert breach.data.escalate and breach.data.late_by_seconds == 0
    await asyncio.sleep(0.5)
    assert len([e for e in await sla.published(ticket_id) if isinstance(e.data, SlaBreached)]) == 1
    breaches = (
        await sla.http.get("/v1/breaches", params={"target": "first_response", "priority": "P3"})
    ).json()
    assert [b["ticket_id"] for b in breaches] == [str(ticket_id)]
    view = (await sla.http.get(f"/v1/tickets/{ticket_id}/sla")).json()
    clock = next(c for c in view["clocks"] if c["target"] == "first_response")
    assert clock["breached"] and clock["remaining_business_seconds"] <= 0


async def test_reply_before_due_meets_the_target_and_no_breach_fires(sla: Sla) -> None:
    await add_policy(sla, 1, warn=None)
    ticket_id = uuid.uuid4()
    await sla.feed(
        created(ticket_id),
        CommentAdded(
            ticket_id=ticket_id,
            occurred_at=utcnow(),
            comment_id=uuid.uuid4(),
            author=Actor(id="a-1", role="agent"),
            public=True,
            body="On it",
        ),
    )
    await asyncio.sleep(1.5)
    types = [e.type for e in await sla.published(ticket_id)]
    assert "helpdesk.sla.met.v1" in types and "helpdesk.sla.breached.v1" not in types
    async with sla.runtime.engine.connect() as conn:
        assert await conn.scalar(sa.select(sa.func.count()).select_from(sla_timers)) == 0


async def test_overdue_timers_fire_at_once_with_their_true_late_by_and_only_once(sla: Sla) -> None:
    await add_policy(sla, 2, warn=None)
    tickets = [uuid.uuid4() for _ in range(5)]
    # Created 10 s ago, as if the service had been down since: every breach is 8 s overdue.
    await sla.feed(*(created(t, at=utcnow() - timedelta(seconds=10)) for t in tickets))
    scheduler = sla.app.state.scheduler
    # Concurrent scheduler passes race for the same rows: each still fires once.
    await asyncio.gather(*(scheduler.fire_due(sla.runtime.engine) for _ in range(3)))
    for ticket_id in tickets:
        (breach,) = await wait_for(sla, ticket_id, SlaBreached)
        assert 8 <= breach.data.late_by_seconds <= 9
    await asyncio.sleep(0.3)
    all_breaches = [e for e in await sla.published() if isinstance(e.data, SlaBreached)]
    assert sorted(e.data.ticket_id for e in all_breaches) == sorted(tickets)
    async with sla.runtime.engine.connect() as conn:
        assert await conn.scalar(sa.select(sa.func.count()).select_from(sla_firings)) == 5


async def test_more_due_timers_than_a_batch_fire_in_back_to_back_batches_each_once(db_url: str) -> None:
    async with running_sla(db_url, timer_batch_size=2) as small:
        await add_policy(small, 2, warn=None)
        tickets = [uuid.uuid4() for _ in range(5)]
        await small.feed(*(created(t, at=utcnow() - timedelta(seconds=10)) for t in tickets))
        # One pass: batches of 2, the next started as soon as one was full. The app's own
        # scheduler (woken by the feed) may claim some of them at the same time (SKIP LOCKED):
        # wait for its transaction too, then every ticket must have breached exactly once.
        await small.app.state.scheduler.fire_due(small.runtime.engine)
        deadline = asyncio.get_running_loop().time() + 10
        while True:
            breaches = [e for e in await small.published() if isinstance(e.data, SlaBreached)]
            if len(breaches) >= len(tickets) or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.05)
        assert sorted(e.data.ticket_id for e in breaches) == sorted(tickets)
        async with small.runtime.engine.connect() as conn:
            assert await conn.scalar(sa.select(sa.func.count()).select_from(sla_firings)) == 5


async def test_two_claimers_on_a_backlog_fire_every_timer_once_in_due_order(pg_url: str) -> None:
    async with running_sla(pg_url, timer_batch_size=2, timer_claimers=2) as sla:
        await add_policy(sla, 2, warn=50)
        tickets = [uuid.uuid4() for _ in range(7)]
        # Warning and breach both overdue: the claimers may split a ticket's two timers, the
        # second then finds its state held by the first and retries after that commit.
        await sla.feed(*(created(t, at=utcnow() - timedelta(seconds=10)) for t in tickets))
        await sla.app.state.scheduler.fire_due(sla.runtime.engine)
        for ticket_id in tickets:
            (breach,) = await wait_for(sla, ticket_id, SlaBreached)
            (warning,) = await wait_for(sla, ticket_id, SlaWarning)
            assert warning.time <= breach.time and breach.time >= breach.data.due_at
        async with sla.runtime.engine.connect() as conn:
            assert await conn.scalar(sa.select(sa.func.count()).select_from(sla_firings)) == 14
            assert await conn.scalar(sa.select(sa.func.count()).select_from(sla_timers)) == 0


async def test_priority_change_moves_the_ticket_to_another_policy_and_reschedules_its_timers(
    sla: Sla,
) -> None:
    urgent = await sla.http.post(
        "/v1/policies",
        json={
            "id": "urgent",
            "conditions": {"categories": [CATEGORY], "priorities": ["P1"]},
            "targets": {"first_response": 600},
        },
    )
    assert urgent.status_code == 201, urgent.text
    await add_policy(sla, 3600, warn=None)  # placed after "urgent"
    ticket_id = uuid.uuid4()
    opened = utcnow() - timedelta(seconds=100)
    await sla.feed(
        created(ticket_id, at=opened),
        PriorityChanged(
            ticket_id=ticket_id,
            occurred_at=utcnow(),
            from_priority="P3",
            to_priority="P1",
            by=Actor(id="a-1", role="agent"),
        ),
    )
    restarted = [
        e.data
        for e in await sla.published(ticket_id)
        if isinstance(e.data, ClockStarted) and e.data.policy == "urgent"
    ]
    assert [s.due_at for s in restarted] == [opened + timedelta(seconds=600)]
    async with sla.runtime.engine.connect() as conn:
        due = (await conn.execute(sa.select(sla_timers.c.due_at))).scalars().all()
    assert [as_utc(d) for d in due] == [opened + timedelta(seconds=600)]
    view = (await sla.http.get(f"/v1/tickets/{ticket_id}/sla")).json()
    assert view["policy_id"] == "urgent"
    assert 490 <= view["clocks"][0]["remaining_business_seconds"] <= 500
