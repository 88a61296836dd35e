"""Routing across real processes: 300 tickets through intake, capacity, FIFO queues, escalation."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

import httpx

from helpdesk_events.codec import encode
from helpdesk_events.envelope import new_envelope
from helpdesk_events.kafka import make_producer
from helpdesk_events.sla import SlaBreached

from .conftest import System

TEAMS = ("a", "b", "c")
AGENTS_PER_TEAM = 3
CAPACITY = 40


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 60.0, every: float = 0.3) -> Any:
    """Poll `check` until it returns a truthy value (returned) or the timeout (AssertionError)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(every)
    raise AssertionError(f"condition not met within {timeout} s; last result {last!r}")


async def ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


async def isolate(http: httpx.AsyncClient, routing: str) -> None:
    """A catch-all rule to a team without agents, so other tests' tickets never reach ours."""
    if (await http.get(f"{routing}/v1/rules/e2e-sink")).status_code == 200:
        return
    await http.put(f"{routing}/v1/teams/e2e-sink", json={"id": "e2e-sink", "name": "Sink", "tier": 1})
    await ok(await http.put(f"{routing}/v1/rules/e2e-sink", json={"team": "e2e-sink"}))


async def add_team(http: httpx.AsyncClient, routing: str, team: str, category: str, tier: int = 1) -> None:
    await ok(await http.post(f"{routing}/v1/teams", json={"id": team, "name": team, "tier": tier}))
    await ok(await http.post(f"{routing}/v1/rules", json={
        "id": f"rule-{team}", "team": team, "position": 0,
        "conditions": [{"field": "category", "op": "eq", "value": category}],
    }))


async def create_ticket(http: httpx.AsyncClient, intake: str, category: str, n: int) -> str:
    body = {"subject": f"Routing e2e {n}", "requester": {"id": "u-9", "org": "Ops"}, "channel": "portal",
            "type": "incident", "priority": "P3", "category": category}
    return str((await ok(await http.post(f"{intake}/v1/tickets", json=body)))["id"])


async def agents_of(http: httpx.AsyncClient, routing: str, team: str) -> list[dict[str, Any]]:
    return await ok(await http.get(f"{routing}/v1/agents", params={"team": team}))


async def intake_matches_routing(http: httpx.AsyncClient, system: System, ids: list[str]) -> bool:
    """True when every ticket in intake shows the team and agent of routing's latest decision."""
    for ticket_id in ids:
        routed = await ok(await http.get(f"{system.urls['routing']}/v1/tickets/{ticket_id}/routing"))
        ticket = await ok(await http.get(f"{system.urls['intake']}/v1/tickets/{ticket_id}"))
        if (ticket["team"], ticket["agent"], ticket["tier"]) != (routed["team"], routed["agent"], routed["tier"]):
            return False
    return True


async def test_300_tickets_over_3_teams_spread_round_robin_within_capacity(
    system: System, http: httpx.AsyncClient
) -> None:
    routing, intake = system.urls["routing"], system.urls["intake"]
    run = uuid.uuid4().hex[:6]
    await isolate(http, routing)
    for team in TEAMS:
        await add_team(http, routing, f"rr-{run}-{team}", f"rr{run}/{team}")
        for i in range(AGENTS_PER_TEAM):
            await ok(await http.post(f"{routing}/v1/agents", json={
                "id": f"rr-{run}-{team}{i}", "name": f"Agent {team}{i}", "teams": [f"rr-{run}-{team}"],
                "tier": 1, "capacity": CAPACITY, "status": "online"}))
    gate = asyncio.Semaphore(10)

    async def one(n: int) -> str:
        async with gate:
            return await create_ticket(http, intake, f"rr{run}/{TEAMS[n % 3]}", n)

    ids = await asyncio.gather(*(one(n) for n in range(300)))

    async def all_assigned() -> bool:
        total = 0
        for team in TEAMS:
            total += sum(a["open_tickets"] for a in await agents_of(http, routing, f"rr-{run}-{team}"))
        return total == 300

    await eventually(all_assigned, timeout=120)
    for team in TEAMS:
        counts = [a["open_tickets"] for a in await agents_of(http, routing, f"rr-{run}-{team}")]
        assert sum(counts) == 100 and max(counts) - min(counts) <= 1, (team, counts)
        assert max(counts) <= CAPACITY
    sample = list(ids[::10])
    await eventually(lambda: intake_matches_routing(http, system, sample), timeout=90, every=1.0)
    shown = await ok(await http.get(f"{intake}/v1/tickets/{ids[0]}"))
    assert shown["team"] == f"rr-{run}-a" and shown["agent"] is not None


async def test_queued_tickets_are_assigned_fifo_when_agents_come_online(
    system: System, http: httpx.AsyncClient
) -> None:
    routing, intake = system.urls["routing"], system.urls["intake"]
    run = uuid.uuid4().hex[:6]
    team = f"q-{run}"
    await isolate(http, routing)
    await add_team(http, routing, team, f"q{run}/x")
    for i in range(2):
        await ok(await http.post(f"{routing}/v1/agents", json={
            "id": f"{team}-{i}", "name": f"Q{i}", "teams": [team], "tier": 1, "capacity": 2}))
    ids = [await create_ticket(http, intake, f"q{run}/x", n) for n in range(5)]

    async def queued() -> bool:
        return (await ok(await http.get(f"{routing}/v1/teams/{team}")))["queued"] == 5

    await eventually(queued)
    over_capacity = await ok(await http.put(f"{routing}/v1/agents/{team}-0/status", json={"status": "online"}))
    assert over_capacity["open_tickets"] == 2
    views = [await ok(await http.get(f"{routing}/v1/tickets/{t}/routing")) for t in ids]
    assert [v["agent"] for v in views] == [f"{team}-0", f"{team}-0", None, None, None]
    await ok(await http.put(f"{routing}/v1/agents/{team}-1/status", json={"status": "online"}))
    views = [await ok(await http.get(f"{routing}/v1/tickets/{t}/routing")) for t in ids]
    assert [v["agent"] for v in views] == [f"{team}-0", f"{team}-0", f"{team}-1", f"{team}-1", None]
    assert all(v["decisions"][0]["data"]["queued"] for v in views)
    await eventually(lambda: intake_matches_routing(http, system, ids), timeout=60, every=0.5)


async def test_breach_with_escalate_moves_a_tier_one_ticket_to_tier_two_in_intake(
    system: System, http: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    routing, intake = system.urls["routing"], system.urls["intake"]
    run = uuid.uuid4().hex[:6]
    await isolate(http, routing)
    await add_team(http, routing, f"esc-{run}", f"esc{run}/x")
    # The tier-2 team of this run wins by category over other tier-2 teams.
    await ok(await http.post(f"{routing}/v1/teams", json={
        "id": f"esc2-{run}", "name": "L2", "tier": 2, "categories": [f"esc{run}"]}))
    await ok(await http.post(f"{routing}/v1/agents", json={
        "id": f"esc2-{run}-0", "name": "L2 agent", "teams": [f"esc2-{run}"], "tier": 2, "capacity": 5,
        "status": "online"}))
    ticket_id = await create_ticket(http, intake, f"esc{run}/x", 0)

    async def at_team_one() -> bool:
        return (await ok(await http.get(f"{intake}/v1/tickets/{ticket_id}")))["team"] == f"esc-{run}"

    await eventually(at_team_one)
    breach = SlaBreached(ticket_id=uuid.UUID(ticket_id), target="first_response",  # type: ignore[arg-type]
                         due_at=datetime.now(timezone.utc), late_by_seconds=30, escalate=True)
    record = encode(new_envelope(breach, source="sla", subject=ticket_id, time=datetime.now(timezone.utc)))
    producer = make_producer(kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(record.topic, record.value, key=record.key, headers=list(record.headers))
    finally:
        await producer.stop()

    async def at_tier_two() -> dict[str, Any] | None:
        ticket = await ok(await http.get(f"{intake}/v1/tickets/{ticket_id}"))
        return ticket if ticket["tier"] == 2 and ticket["agent"] == f"esc2-{run}-0" else None

    ticket = await eventually(at_tier_two)
    assert ticket["team"] == f"esc2-{run}" and ticket["escalation_count"] == 1
