"""Out-of-range numbers are a 422 naming the field, never a database overflow (found by fuzzing)."""

from __future__ import annotations

import httpx


async def test_a_rule_position_past_the_stored_range_is_a_422_naming_it(
    client: httpx.AsyncClient,
) -> None:
    team = {"id": "net", "name": "Network", "tier": 1}
    assert (await client.post("/v1/teams", json=team)).status_code == 201
    response = await client.post("/v1/rules", json={"team": "net", "position": 10**20})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["position"]
    last_allowed = await client.post("/v1/rules", json={"team": "net", "position": 100_000})
    assert last_allowed.status_code == 201
