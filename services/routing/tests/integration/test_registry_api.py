"""Registry, rules, preview and validation over REST, on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from helpdesk_routing.tables import outbox

TICKET = {"subject": "VPN drops", "channel": "email", "type": "incident", "priority": "P2",
          "category": "network/vpn", "language": "de"}


async def setup_registry(client: httpx.AsyncClient) -> None:
    for team in ({"id": "desk", "name": "Desk", "tier": 1},
                 {"id": "net", "name": "Network", "tier": 2, "categories": ["network"],
                  "strategy": "least_loaded"}):
        assert (await client.post("/v1/teams", json=team)).status_code == 201
    for agent in ({"id": "ann", "name": "Ann", "teams": ["desk"], "tier": 1, "capacity": 3, "status": "online"},
                  {"id": "bo", "name": "Bo", "teams": ["net"], "tier": 2, "capacity": 2, "languages": ["de"]}):
        response = await client.post("/v1/agents", json=agent)
        assert response.status_code == 201, response.text


async def test_teams_and_agents_crud(client: httpx.AsyncClient) -> None:
    await setup_registry(client)
    teams = (await client.get("/v1/teams")).json()
    assert [t["id"] for t in teams] == ["desk", "net"]
    assert (await client.post("/v1/teams", json={"id": "desk", "name": "x", "tier": 1})).status_code == 409
    replaced = await client.put("/v1/agents/bo", json={"id": "bo", "name": "Bo B", "teams": ["net", "desk"],
                                                       "tier": 2, "capacity": 4})
    assert replaced.status_code == 200 and replaced.json()["teams"] == ["net", "desk"]
    one = (await client.get("/v1/agents/bo")).json()
    assert one["capacity"] == 4 and one["open_tickets"] == 0
    assert [a["id"] for a in (await client.get("/v1/agents", params={"team": "desk"})).json()] == ["ann", "bo"]
    assert (await client.delete("/v1/agents/bo")).status_code == 204
    assert (await client.get("/v1/agents/bo")).status_code == 404


async def test_agent_with_unknown_team_is_refused_naming_the_team(client: httpx.AsyncClient) -> None:
    await setup_registry(client)
    response = await client.post("/v1/agents", json={"id": "cy", "name": "Cy", "teams": ["desk", "ghost"],
                                                     "tier": 1, "capacity": 1})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in response.json()["errors"]] == ["teams.1"]


async def test_status_change_is_published_as_agent_status_changed(app: FastAPI, client: httpx.AsyncClient) -> None:
    await setup_registry(client)
    response = await client.put("/v1/agents/bo/status", json={"status": "online"})
    assert response.status_code == 200 and response.json()["status"] == "online"
    async with app.state.runtime.engine.connect() as conn:
        types = (await conn.execute(sa.select(outbox.c.event_type).order_by(outbox.c.position))).scalars().all()
    # Each new agent publishes its first status; bo's change is the third.
    assert types.count("helpdesk.routing.agent_status_changed.v1") == 3
    assert (await client.put("/v1/agents/nobody/status", json={"status": "online"})).status_code == 404
    bad = await client.put("/v1/agents/bo/status", json={"status": "asleep"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "status"


async def test_rules_are_kept_in_order_and_positions_shift_on_insert(client: httpx.AsyncClient) -> None:
    await setup_registry(client)
    first = await client.post("/v1/rules", json={"id": "vpn", "team": "net", "conditions": [
        {"field": "category", "op": "starts_with", "value": "network"}]})
    assert first.status_code == 201, first.text
    await client.post("/v1/rules", json={"id": "all", "team": "desk"})
    await client.post("/v1/rules", json={"id": "p1", "team": "net", "position": 0, "conditions": [
        {"field": "priority", "op": "eq", "value": "P1"}]})
    assert [r["id"] for r in (await client.get("/v1/rules")).json()] == ["p1", "vpn", "all"]
    updated = await client.put("/v1/rules/all", json={"team": "desk", "enabled": False})
    assert updated.status_code == 200 and updated.json()["enabled"] is False
    assert (await client.delete("/v1/rules/p1")).status_code == 204
    assert [r["id"] for r in (await client.get("/v1/rules")).json()] == ["vpn", "all"]


async def test_invalid_rules_are_refused_with_problem_json_naming_the_field(client: httpx.AsyncClient) -> None:
    await setup_registry(client)
    cases = [
        ({"team": "desk", "conditions": [{"field": "colour", "op": "eq", "value": "red"}]}, "conditions.0.field"),
        ({"team": "desk", "conditions": [{"field": "channel", "op": "like", "value": "x"}]}, "conditions.0.op"),
        ({"team": "desk", "conditions": [{"field": "channel", "op": "eq", "value": "pigeon"}]}, "conditions.0.value"),
        ({"team": "ghost"}, "team"),
        ({"team": "desk", "strategy": "random"}, "strategy"),
        ({"team": "desk", "colour": "red"}, "colour"),
    ]
    for body, field in cases:
        response = await client.post("/v1/rules", json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert field in [e["field"] for e in response.json()["errors"]], (body, response.json())
    assert (await client.get("/v1/rules")).json() == []


async def test_deleting_a_team_that_rules_use_is_refused(client: httpx.AsyncClient) -> None:
    await setup_registry(client)
    await client.post("/v1/rules", json={"id": "vpn", "team": "net"})
    refused = await client.delete("/v1/teams/net")
    assert refused.status_code == 409 and refused.json()["rules"] == ["vpn"]
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert (await client.delete("/v1/rules/vpn")).status_code == 204
    assert (await client.delete("/v1/teams/net")).status_code == 204


async def test_preview_names_rule_team_and_agent_without_side_effects(app: FastAPI, client: httpx.AsyncClient) -> None:
    await setup_registry(client)
    default = (await client.post("/v1/route/preview", json=TICKET)).json()
    assert (default["rule"], default["team"], default["agent"], default["tier"]) == (None, "desk", "ann", 1)
    await client.post("/v1/rules", json={"id": "vpn", "team": "net", "strategy": "skills_match", "conditions": [
        {"field": "subject", "op": "has_any_word", "value": ["vpn", "wifi"]}]})
    routed = (await client.post("/v1/route/preview", json=TICKET)).json()
    assert (routed["rule"], routed["team"], routed["tier"], routed["queued"]) == ("vpn", "net", 2, True)
    await client.put("/v1/agents/bo/status", json={"status": "online"})
    routed = (await client.post("/v1/route/preview", json=TICKET)).json()
    assert routed["agent"] == "bo" and routed["strategy"] == "skills_match"
    assert (await client.get("/v1/agents/bo")).json()["open_tickets"] == 0
    bad = await client.post("/v1/route/preview", json={**TICKET, "channel": "fax"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "channel"


async def test_unknown_ticket_has_no_routing(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/tickets/00000000-0000-0000-0000-000000000001/routing")
    assert response.status_code == 404
