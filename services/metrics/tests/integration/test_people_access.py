"""Individual agents' numbers: every agent's for supervisors and integrators, only one's own
for an agent (access.py), over the reference scenario on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

from helpdesk.testing.auth import bearer, enabled_auth
from helpdesk_events.inbox import transactional_handler
from helpdesk_metrics.app import create_app
from helpdesk_metrics.config import MetricsSettings
from helpdesk_metrics.handlers import handle
from helpdesk_runtime.settings import KafkaSettings

from ..conftest import D, H, T0, build_reference

WINDOW = {"from": T0.isoformat(), "to": (T0 + 7 * D).isoformat()}
#: At the window's stop a1 is offline: KPI 30 lists the agents online then.
AT_SHIFT = {"from": T0.isoformat(), "to": (T0 + 4 * H).isoformat()}
AGENT = bearer("agent", "a1")
PEOPLE = (bearer("supervisor"), bearer("integrator"), bearer("admin"))


@pytest.fixture
async def http(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(MetricsSettings(
        auth=enabled_auth(), database_url=db_url,
        kafka=KafkaSettings(bootstrap_servers="127.0.0.1:1"), log_level="WARNING",
        log_json=False, gauge_refresh_seconds=0))
    async with LifespanManager(app, startup_timeout=60):
        apply = transactional_handler(app.state.runtime.engine, "metrics", handle)
        for envelope in build_reference().history.envelopes:
            await apply(envelope)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://m") as client:
            yield client


def agents_listed(kpi: dict) -> set[str]:
    if kpi["name"] in ("agent_performance", "competence_index"):
        return {row["agent"] for row in kpi["details"]["agents"]}
    return set(kpi["breakdown"])


async def report(http: httpx.AsyncClient, headers: dict[str, str], window: dict[str, str]) -> dict:
    response = await http.get("/v1/kpis", params=window, headers=headers)
    assert response.status_code == 200, response.text
    return {k["name"]: k for k in response.json()["kpis"]}


async def test_an_agent_sees_only_their_own_row_of_each_per_agent_kpi(
        http: httpx.AsyncClient) -> None:
    per_agent = ("agent_utilization", "agent_availability", "agent_performance",
                 "competence_index")
    for window in (WINDOW, AT_SHIFT):
        everyone = await report(http, PEOPLE[0], window)
        mine = await report(http, AGENT, window)
        for headers in PEOPLE[1:]:
            assert await report(http, headers, window) == everyone
        for name in (*per_agent, "workload_balance"):
            assert agents_listed(mine[name]) <= {"a1"}, name
            # The value is over every agent, as a supervisor sees it.
            assert mine[name]["value"] == everyone[name]["value"], name
        for name, kpi in everyone.items():
            if name not in (*per_agent, "workload_balance"):
                assert mine[name] == kpi, name
    # There was something to hide: others' rows, and a1's own row stays.
    for name in per_agent:
        assert agents_listed(everyone[name]) > {"a1"} and agents_listed(mine[name]) == {"a1"}, name
    shift = await report(http, PEOPLE[0], AT_SHIFT)
    assert agents_listed(shift["workload_balance"]) > {"a1"}

    series = await http.get("/v1/kpis/agent_performance", params={**WINDOW, "interval": "day"},
                            headers=AGENT)
    assert series.status_code == 200
    assert {r["agent"] for p in series.json()["points"] for r in p["details"]["agents"]} == {"a1"}
    many = await http.get("/v1/kpis/series", headers=AGENT, params={
        **WINDOW, "names": "agent_utilization,ticket_volume"})
    utilization = many.json()["series"][0]
    assert {a for p in utilization["points"] for a in p["breakdown"]} == {"a1"}


@pytest.mark.parametrize("path,params,field", [
    ("/v1/kpis", {"agent": "a2"}, "query.agent"),
    ("/v1/kpis/series", {"agent": "a2", "names": "csat"}, "query.agent"),
    ("/v1/kpis/csat", {"agent": "a2"}, "query.agent"),
    ("/v1/kpis/csat/breakdown", {"by": "agent"}, "query.by"),
    ("/v1/kpis/csat/breakdown", {"by": "team", "agent": "a2"}, "query.agent"),
    ("/v1/scorecard", {"agent": "a2"}, "query.agent"),
    ("/v1/scorecard/baseline", {"agent": "a2"}, "query.agent"),
    ("/v1/backlog/forecast", {"agent": "a2"}, "query.agent"),
])
async def test_an_agent_may_not_ask_for_another_agents_numbers(
        http: httpx.AsyncClient, path: str, params: dict[str, str], field: str) -> None:
    denied = await http.get(path, params={**WINDOW, **params}, headers=AGENT)
    assert denied.status_code == 403, denied.text
    assert denied.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in denied.json()["errors"]] == [field]
    for headers in PEOPLE:
        assert (await http.get(path, params={**WINDOW, **params}, headers=headers)).status_code == 200
    own = {k: ("a1" if v == "a2" else v) for k, v in params.items()}
    if own.get("by") != "agent":
        assert (await http.get(path, params={**WINDOW, **own}, headers=AGENT)).status_code == 200
