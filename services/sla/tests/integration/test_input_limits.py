"""Out-of-range policy numbers are a 422 naming the field, never a 500 (found by fuzzing)."""

from __future__ import annotations

import pytest

from .conftest import Sla

POLICY = {"id": "p1", "name": "P1", "targets": {"first_response": 900}}


@pytest.mark.parametrize(("change", "field"), [
    ({"targets": {"first_response": 10**20}}, "targets.first_response"),
    ({"targets": {"resolution": 366 * 24 * 3600 + 1}}, "targets.resolution"),
    ({"order": 10**20}, "order"),
])
async def test_targets_and_order_out_of_range_are_a_422_naming_the_field(
    sla: Sla, change: dict, field: str
) -> None:
    response = await sla.http.post("/v1/policies", json={**POLICY, **change})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == [field]


async def test_a_target_of_a_year_is_accepted(sla: Sla) -> None:
    body = {**POLICY, "targets": {"resolution": 366 * 24 * 3600}, "order": 1_000_000}
    assert (await sla.http.post("/v1/policies", json=body)).status_code == 201
