"""The configuration the fault suite's tickets flow through: a routing team with agents online
and a survey policy, so routing assigns every ticket and surveys invites on resolution."""

from __future__ import annotations

import httpx

from .system import FaultSystem

TEAM = "rel-desk"
AGENTS = ("rel-a1", "rel-a2", "rel-a3")
#: Share of resolved tickets surveyed: below 1 so the checker also proves the sampling rule.
SURVEY_SAMPLE_RATE = 0.5
#: Surveys wait this long before they are sent: they stay scheduled for the whole suite.
SURVEY_DELAY_SECONDS = 3600


def seed(system: FaultSystem) -> None:
    """Create the team, its agents (online, ample capacity) and the survey policy."""
    with httpx.Client(timeout=15.0, headers=system.headers) as client:
        routing, surveys = system.urls["routing"], system.urls["surveys"]
        _ok(client.put(f"{routing}/v1/teams/{TEAM}", json={
            "id": TEAM, "name": "Reliability desk", "tier": 1, "strategy": "round_robin",
        }))
        for agent in AGENTS:
            # Capacity well above the suite's open tickets: nothing queues, every ticket gets an agent.
            _ok(client.put(f"{routing}/v1/agents/{agent}", json={
                "id": agent, "name": agent, "teams": [TEAM], "tier": 1, "capacity": 1000,
                "status": "online",
            }))
        _ok(client.post(f"{surveys}/v1/survey-policies", json={
            "name": "rel-on-resolve", "trigger": "resolved", "questions": [{"kind": "csat"}],
            "delay_seconds": SURVEY_DELAY_SECONDS, "sample_rate": SURVEY_SAMPLE_RATE,
            "throttle_days": 0,
        }))


def _ok(response: httpx.Response) -> None:
    if response.status_code >= 300:
        raise RuntimeError(f"{response.request.method} {response.request.url}: "
                           f"{response.status_code} {response.text}")
