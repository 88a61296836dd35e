"""A ticket from REST into the event stream and out again as a KPI, across real processes."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone

import httpx

from .conftest import System

TICKET = {
    "subject": "Printer on floor 3 jams",
    "requester": {"id": "u-7", "email": "li@example.com", "name": "Li", "org": "Sales"},
    "channel": "portal",
    "type": "incident",
    "impact": "low",
    "urgency": "medium",
}


async def ticket_volume(http: httpx.AsyncClient, system: System, since: datetime) -> int:
    """ticket_volume from metrics for the window [since, now + 1 h)."""
    until = datetime.now(timezone.utc) + timedelta(hours=1)
    response = await http.get(f"{system.urls['metrics']}/v1/kpis",
                              params={"from": since.isoformat(), "to": until.isoformat()})
    response.raise_for_status()
    kpis = {k["name"]: k for k in response.json()["kpis"]}
    return int(kpis["ticket_volume"]["value"])


async def wait_for_volume(http: httpx.AsyncClient, system: System, since: datetime, expected: int,
                          timeout: float = 60.0) -> int:
    """Poll metrics until ticket_volume reaches `expected` (or the timeout); returns the last value."""
    deadline = time.monotonic() + timeout
    value = -1
    while time.monotonic() < deadline:
        value = await ticket_volume(http, system, since)
        if value >= expected:
            # Give duplicates a chance to show up before declaring the count exact.
            await asyncio.sleep(1.0)
            return await ticket_volume(http, system, since)
        await asyncio.sleep(0.25)
    return value


async def test_created_ticket_reaches_metrics_ticket_volume(system: System, http: httpx.AsyncClient) -> None:
    since = datetime.now(timezone.utc) - timedelta(seconds=1)
    created = await http.post(f"{system.urls['intake']}/v1/tickets", json=TICKET)
    assert created.status_code == 201, created.text
    assert created.headers["Location"].endswith(created.json()["id"])
    assert await wait_for_volume(http, system, since, 1) == 1


async def test_every_service_is_ready_and_exposes_prometheus_metrics(system: System, http: httpx.AsyncClient) -> None:
    for name, url in system.urls.items():
        ready = await http.get(f"{url}/readyz")
        assert ready.status_code == 200, (name, ready.text)
        metrics = await http.get(f"{url}/metrics")
        assert metrics.status_code == 200
        assert "helpdesk_up 1.0" in metrics.text


async def test_metrics_killed_mid_stream_counts_every_ticket_exactly_once(
    system: System, http: httpx.AsyncClient
) -> None:
    since = datetime.now(timezone.utc) - timedelta(seconds=1)
    total = 60
    for i in range(total):
        if i == 20:
            system.kill("metrics")
        if i == 40:
            system.start("metrics")
        response = await http.post(f"{system.urls['intake']}/v1/tickets",
                                   json={**TICKET, "subject": f"Ticket {i}"})
        assert response.status_code == 201, response.text
    assert await wait_for_volume(http, system, since, total, timeout=90) == total
