"""Supervisors manage only their own teams' routing objects; agents set only their own status."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from helpdesk.testing.auth import bearer, enabled_auth
from helpdesk_routing.app import create_app
from helpdesk_routing.config import RoutingSettings
from helpdesk_runtime.settings import KafkaSettings

ADMIN = bearer("admin")
NETWORK_LEAD = bearer("supervisor", "sam", teams=["network"])


@pytest.fixture
async def routing(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(RoutingSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'routing.db'}", log_json=False,
        kafka=KafkaSettings(bootstrap_servers="127.0.0.1:1"), auth=enabled_auth()))
    async with LifespanManager(app, startup_timeout=60):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as http:
            for team in ("network", "desk"):
                created = await http.post("/v1/teams", json={"id": team, "name": team, "tier": 1},
                                          headers=ADMIN)
                assert created.status_code == 201, created.text
            yield http


def _agent(agent_id: str, *teams: str) -> dict[str, object]:
    return {"id": agent_id, "name": agent_id, "teams": list(teams), "tier": 1, "capacity": 5}


async def test_a_supervisor_changes_only_objects_of_their_teams(routing: httpx.AsyncClient) -> None:
    put_team = await routing.put("/v1/teams/network", headers=NETWORK_LEAD,
                                 json={"id": "network", "name": "Network", "tier": 2})
    assert put_team.status_code == 200, put_team.text
    other_team = await routing.put("/v1/teams/desk", headers=NETWORK_LEAD,
                                   json={"id": "desk", "name": "Desk", "tier": 1})
    assert other_team.status_code == 403 and "desk" in other_team.json()["detail"]

    mine = await routing.post("/v1/agents", json=_agent("a-1", "network"), headers=NETWORK_LEAD)
    assert mine.status_code == 201, mine.text
    theirs = await routing.post("/v1/agents", json=_agent("a-2", "network", "desk"),
                                headers=NETWORK_LEAD)
    assert theirs.status_code == 403
    assert (await routing.post("/v1/agents", json=_agent("d-1", "desk"), headers=ADMIN)).status_code == 201
    moved_in = await routing.put("/v1/agents/d-1", json=_agent("d-1", "network"), headers=NETWORK_LEAD)
    assert moved_in.status_code == 403  # d-1 belongs to desk today
    assert (await routing.delete("/v1/agents/d-1", headers=NETWORK_LEAD)).status_code == 403

    rule = await routing.post("/v1/rules", json={"id": "r-net", "team": "network"}, headers=NETWORK_LEAD)
    assert rule.status_code == 201, rule.text
    foreign = await routing.post("/v1/rules", json={"id": "r-desk", "team": "desk"}, headers=NETWORK_LEAD)
    assert foreign.status_code == 403
    assert (await routing.delete("/v1/rules/r-net", headers=NETWORK_LEAD)).status_code == 204


async def test_agents_set_their_own_status_and_supervisors_their_teams(routing: httpx.AsyncClient) -> None:
    for agent in (_agent("a-1", "network"), _agent("d-1", "desk")):
        assert (await routing.post("/v1/agents", json=agent, headers=ADMIN)).status_code == 201
    online = {"status": "online"}
    assert (await routing.put("/v1/agents/a-1/status", json=online,
                              headers=bearer("agent", "a-1"))).status_code == 200
    assert (await routing.put("/v1/agents/d-1/status", json=online,
                              headers=bearer("agent", "a-1"))).status_code == 403
    assert (await routing.put("/v1/agents/a-1/status", json=online,
                              headers=NETWORK_LEAD)).status_code == 200
    assert (await routing.put("/v1/agents/d-1/status", json=online,
                              headers=NETWORK_LEAD)).status_code == 403
