"""A run of events handled in one transaction decides as if each had its own transaction."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI

from helpdesk_events.envelope import new_envelope
from helpdesk_events.sla import SlaBreached
from helpdesk_events.tickets import TicketClosed, TicketResolved

from .test_consumers import AGENT, T0, Feed, created, register, routing_of


async def test_one_batch_follows_its_own_assignments_releases_and_early_breaches(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await register(client, agents=2, capacity=2)
    tickets = [created(n) for n in range(6)]
    late = created(6)
    events = [
        *tickets,
        TicketResolved(ticket_id=tickets[1].ticket_id, occurred_at=T0 + timedelta(minutes=5),
                       resolution_code="fixed", by=AGENT),
        TicketClosed(ticket_id=tickets[1].ticket_id, occurred_at=T0 + timedelta(minutes=6),
                     reason="manual", by=AGENT),
        SlaBreached(ticket_id=late.ticket_id, target="first_response", due_at=T0,  # type: ignore[arg-type]
                    late_by_seconds=5, escalate=True),
        late,
        tickets[0],  # the same creation again (another event id): changes nothing
    ]
    envelopes = [new_envelope(e, source="test", subject=str(e.ticket_id), time=T0) for e in events]
    await Feed(app).deliver.batch(envelopes)

    views = [await routing_of(client, t.ticket_id) for t in tickets]
    assert [v["agent"] for v in views] == ["a0", "a1", "a0", "a1", "a1", None]
    assert [v["state"] for v in views] == ["assigned", "done", "assigned", "assigned", "assigned", "queued"]
    assert [len(v["decisions"]) for v in views] == [1, 1, 1, 1, 2, 1]
    escalated = await routing_of(client, late.ticket_id)
    assert (escalated["tier"], escalated["team"], escalated["agent"]) == (2, "l2", "l2a")
    open_tickets = {a["id"]: a["open_tickets"] for a in (await client.get("/v1/agents")).json()}
    assert open_tickets == {"a0": 2, "a1": 2, "l2a": 1}

    # The next transaction reads what the batch wrote: a1's cursor moved, a0 is next.
    await Feed(app).deliver.batch([new_envelope(
        TicketResolved(ticket_id=tickets[0].ticket_id, occurred_at=T0 + timedelta(minutes=7),
                       resolution_code="fixed", by=AGENT),
        source="test", subject=str(tickets[0].ticket_id), time=T0)])
    assert (await routing_of(client, tickets[5].ticket_id))["agent"] == "a0"
