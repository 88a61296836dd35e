"""`helpdesk simulate` against the five services as processes: the plan becomes real tickets.

The run uses a namespace of its own (ids, categories, tag), so the organisation it seeds
touches no other test's tickets, and it sets its agents offline when done.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter

import httpx

from helpdesk.simulate import Kind, Options
from helpdesk.simulate.curve import HOUR, parse_clock
from helpdesk.simulate.runner import simulate
from helpdesk.simulate.seeding import Urls

from .conftest import System


async def test_a_short_simulation_creates_the_planned_tickets_and_works_them(
    system: System, http: httpx.AsyncClient
) -> None:
    namespace = f"sim{uuid.uuid4().hex[:6]}"
    urls = Urls(**system.urls)
    options = Options(seed=3, duration=2 * HOUR, rate=16, start=parse_clock("Mon 08:30"),
                      namespace=namespace)
    started = time.monotonic()
    outcome = await simulate(options, urls, speed=1200, credentials=system.credentials)
    try:
        assert time.monotonic() - started < 30
        planned = [a.data["body"]["subject"] for a in outcome.plan.tickets]
        assert len(planned) >= 10
        listed = await http.get(f"{urls.intake}/v1/tickets", params={
            "tag": namespace, "sort": "created_at", "order": "asc", "limit": 200})
        assert listed.status_code == 200, listed.text
        tickets = listed.json()["items"]
        assert [t["subject"] for t in tickets] == planned
        assert list(outcome.result.ticket_ids.values()) == [t["id"] for t in tickets]

        progress = outcome.result.progress
        assert sum(progress.failed.values()) <= len(outcome.plan.actions) // 20, progress.errors
        statuses = Counter(t["status"] for t in tickets)
        assert statuses["resolved"] + statuses["closed"] >= 3, statuses
        assert sum(t["public_agent_reply_count"] for t in tickets) >= len(tickets) // 2
        assert sum(sum(t["work_seconds"].values()) for t in tickets) > 0
        assert any(t["team"] and t["team"].startswith(namespace) for t in tickets)
        if any(a.kind is Kind.ESCALATE for a in outcome.plan.actions):
            assert any(t["escalation_count"] for t in tickets)

        again = await simulate(options, urls, speed=1200, credentials=system.credentials)
        assert [a.data["body"]["subject"] for a in again.plan.tickets] == planned
        assert again.seeded.created == [] and again.seeded.reused
    finally:
        for agent in outcome.plan.org.agents:
            await http.put(f"{urls.routing}/v1/agents/{agent.id}/status", json={"status": "offline"})
