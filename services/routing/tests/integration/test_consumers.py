"""Routing's event handlers on a real database (SQLite and PostgreSQL), through the inbox."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from helpdesk_events.envelope import Envelope, Event, new_envelope
from helpdesk_events.inbox import transactional_handler
from helpdesk_events.sla import SlaBreached
from helpdesk_events.tickets import (
    Actor,
    ActorRole,
    Requester,
    TicketClosed,
    TicketCreated,
    TicketEscalated,
    TicketResolved,
)
from helpdesk_routing import handlers
from helpdesk_routing.tables import outbox

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)
AGENT = Actor(id="ag", role=ActorRole.AGENT)


def created(n: int, **kw: object) -> TicketCreated:
    return TicketCreated(
        ticket_id=uuid.uuid4(), occurred_at=T0 + timedelta(seconds=n), number=f"HD-{n + 1}",
        subject=kw.pop("subject", f"Ticket {n}"), requester=Requester(id="u1", org="Sales"),  # type: ignore[arg-type]
        channel="email", type="incident", priority="P3", by=AGENT, **kw,  # type: ignore[arg-type]
    )


class Feed:
    """Deliver events the way the consumer does (inbox transaction), redeliveries included."""

    def __init__(self, app: FastAPI) -> None:
        self.deliver = transactional_handler(app.state.runtime.engine, "routing", handlers.handle)

    async def __call__(self, event: Event, subject: uuid.UUID) -> Envelope:
        envelope = new_envelope(event, source="test", subject=str(subject), time=T0)
        await self.deliver(envelope)
        return envelope


async def register(client: httpx.AsyncClient, agents: int, capacity: int, status: str = "online") -> None:
    await client.post("/v1/teams", json={"id": "desk", "name": "Desk", "tier": 1})
    await client.post("/v1/teams", json={"id": "l2", "name": "L2", "tier": 2})
    await client.post("/v1/agents", json={"id": "l2a", "name": "L2 A", "teams": ["l2"], "tier": 2,
                                          "capacity": 5, "status": "online"})
    for i in range(agents):
        await client.post("/v1/agents", json={"id": f"a{i}", "name": f"A{i}", "teams": ["desk"], "tier": 1,
                                              "capacity": capacity, "status": status})


async def routing_of(client: httpx.AsyncClient, ticket_id: uuid.UUID) -> dict:  # type: ignore[type-arg]
    response = await client.get(f"/v1/tickets/{ticket_id}/routing")
    assert response.status_code == 200, response.text
    return response.json()


async def test_new_tickets_spread_round_robin_and_overflow_waits_then_drains_fifo(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await register(client, agents=2, capacity=2)
    feed = Feed(app)
    tickets = [created(n) for n in range(6)]
    for t in tickets:
        envelope = await feed(t, t.ticket_id)
        await feed.deliver(envelope)  # a redelivery changes nothing
    views = [await routing_of(client, t.ticket_id) for t in tickets]
    assert [v["agent"] for v in views] == ["a0", "a1", "a0", "a1", None, None]
    assert [v["state"] for v in views[4:]] == ["queued", "queued"]
    assert all(len(v["decisions"]) == 1 for v in views)
    assert [a["open_tickets"] for a in (await client.get("/v1/agents", params={"team": "desk"})).json()] == [2, 2]

    # a1 resolves one: the oldest queued ticket goes to a1; closing (after resolving) frees nothing more.
    await feed(TicketResolved(ticket_id=tickets[1].ticket_id, occurred_at=T0 + timedelta(minutes=5),
                              resolution_code="fixed", by=AGENT), tickets[1].ticket_id)
    await feed(TicketClosed(ticket_id=tickets[1].ticket_id, occurred_at=T0 + timedelta(minutes=6),
                            reason="manual", by=AGENT), tickets[1].ticket_id)
    assert (await routing_of(client, tickets[4].ticket_id))["agent"] == "a1"
    assert (await routing_of(client, tickets[5].ticket_id))["state"] == "queued"

    # A new agent coming online takes the rest of the queue.
    await client.post("/v1/agents", json={"id": "a2", "name": "A2", "teams": ["desk"], "tier": 1, "capacity": 2})
    assert (await routing_of(client, tickets[5].ticket_id))["state"] == "queued"
    await client.put("/v1/agents/a2/status", json={"status": "online"})
    last = await routing_of(client, tickets[5].ticket_id)
    assert (last["agent"], last["state"], len(last["decisions"])) == ("a2", "assigned", 2)
    assert last["decisions"][0]["data"]["queued"] is True


async def test_breach_with_escalate_moves_the_ticket_to_the_next_tier_and_frees_the_agent(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await register(client, agents=1, capacity=1)
    feed = Feed(app)
    first, waiting = created(0), created(1)
    await feed(first, first.ticket_id)
    await feed(waiting, waiting.ticket_id)
    breach = SlaBreached(ticket_id=first.ticket_id, target="first_response", due_at=T0,  # type: ignore[arg-type]
                         late_by_seconds=60, escalate=True)
    await feed(breach, first.ticket_id)
    view = await routing_of(client, first.ticket_id)
    assert (view["tier"], view["team"], view["agent"]) == (2, "l2", "l2a")
    kinds = [d["type"] for d in view["decisions"]]
    assert kinds == ["helpdesk.routing.decided.v1", "helpdesk.routing.escalation_decided.v1",
                     "helpdesk.routing.decided.v1"]
    assert view["decisions"][1]["data"]["trigger"] == "sla_breach"
    # a0 was freed by the escalation and took the waiting ticket.
    assert (await routing_of(client, waiting.ticket_id))["agent"] == "a0"
    # A breach without escalate changes nothing.
    quiet = SlaBreached(ticket_id=waiting.ticket_id, target="resolution", due_at=T0,  # type: ignore[arg-type]
                        late_by_seconds=1, escalate=False)
    await feed(quiet, waiting.ticket_id)
    assert len((await routing_of(client, waiting.ticket_id))["decisions"]) == 2


async def test_breach_that_overtakes_the_creation_is_applied_once_the_ticket_exists(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await register(client, agents=1, capacity=3)
    feed = Feed(app)
    ticket = created(0)
    await feed(SlaBreached(ticket_id=ticket.ticket_id, target="first_response", due_at=T0,  # type: ignore[arg-type]
                           late_by_seconds=5, escalate=True), ticket.ticket_id)
    await feed(ticket, ticket.ticket_id)
    view = await routing_of(client, ticket.ticket_id)
    assert (view["tier"], view["team"]) == (2, "l2")


async def test_manual_escalation_without_a_tier_two_team_moves_the_ticket_to_one(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await register(client, agents=1, capacity=3)
    feed = Feed(app)
    ticket = created(0)
    await feed(ticket, ticket.ticket_id)
    await feed(TicketEscalated(ticket_id=ticket.ticket_id, occurred_at=T0 + timedelta(minutes=1), from_tier=1,  # type: ignore[arg-type]
                               to_tier=2, reason="hard", by=AGENT, trigger="manual",  # type: ignore[arg-type]
                               from_team="desk", from_agent="a0"), ticket.ticket_id)
    view = await routing_of(client, ticket.ticket_id)
    assert (view["tier"], view["team"], view["agent"]) == (2, "l2", "l2a")
    assert (await client.get("/v1/agents/a0")).json()["open_tickets"] == 0


async def test_transfer_over_rest_records_a_manual_decision(app: FastAPI, client: httpx.AsyncClient) -> None:
    await register(client, agents=2, capacity=3)
    feed = Feed(app)
    ticket = created(0)
    await feed(ticket, ticket.ticket_id)
    moved = await client.post(f"/v1/tickets/{ticket.ticket_id}/transfer",
                              json={"to_team": "desk", "to_agent": "a1", "reason": "knows the user"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["agent"] == "a1" and moved.json()["decisions"][-1]["data"]["strategy"] == "manual"
    refused = await client.post(f"/v1/tickets/{ticket.ticket_id}/transfer",
                                json={"to_team": "desk", "to_agent": "l2a", "reason": "x"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "to_agent"
    async with app.state.runtime.engine.connect() as conn:
        pending = (await conn.execute(sa.select(sa.func.count()).select_from(outbox)
                                      .where(outbox.c.event_type == "helpdesk.routing.decided.v1"))).scalar()
    assert pending == 2
