"""The REST surface over the reference scenario, on SQLite and PostgreSQL (no broker needed)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from helpdesk.testing.auth import NO_AUTH
from helpdesk_events.inbox import transactional_handler
from helpdesk_metrics.app import create_app
from helpdesk_metrics.config import MetricsSettings
from helpdesk_metrics.handlers import handle
from helpdesk_runtime.settings import KafkaSettings

from ..conftest import D, H, T0, build_reference

NO_BROKER = "127.0.0.1:1"
WINDOW = {"from": T0.isoformat(), "to": (T0 + 7 * D).isoformat()}


@dataclass
class Metrics:
    app: FastAPI
    http: httpx.AsyncClient

    async def kpis(self, **params: str) -> dict[str, dict]:
        response = await self.http.get("/v1/kpis", params={**WINDOW, **params})
        assert response.status_code == 200, response.text
        return {k["name"]: k for k in response.json()["kpis"]}


@pytest.fixture
async def metrics(db_url: str) -> AsyncIterator[Metrics]:
    """A metrics app on `db_url`, fed the reference scenario straight into its handler."""
    app = create_app(MetricsSettings(
        auth=NO_AUTH,
        database_url=db_url, kafka=KafkaSettings(bootstrap_servers=NO_BROKER), log_level="WARNING",
        log_json=False, gauge_refresh_seconds=0.2, gauge_window_days=731,
        default_calendar={"time_zone": "UTC", "weekly_hours": [
            {"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)]}))
    async with LifespanManager(app, startup_timeout=60):
        apply = transactional_handler(app.state.runtime.engine, "metrics", handle)
        for envelope in build_reference().history.envelopes:
            await apply(envelope)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://m") as http:
            yield Metrics(app, http)


async def test_kpis_lists_every_kpi_with_target_status_and_trend(metrics: Metrics) -> None:
    kpis = await metrics.kpis()
    assert len(kpis) == 35
    assert kpis["ticket_volume"]["value"] == 4
    fcr = kpis["first_contact_resolution"]
    assert (fcr["numerator"], fcr["denominator"], fcr["target"], fcr["direction"]) == (1, 3, 0.7, "higher")
    assert fcr["status"] == "missed"
    assert kpis["resolution_time"]["median"] == 18000 and kpis["resolution_time"]["p90"] == 28800
    assert kpis["backlog"]["trend"] == {"previous": 1, "delta": 1, "change": "up", "better": False}

    sliced = await metrics.kpis(category="network", channel="chat")
    assert sliced["ticket_volume"]["value"] == 1  # C
    assert (await metrics.kpis(tier="2"))["ticket_volume"]["value"] == 1  # B
    # Business hours from the configured default calendar (Mon-Fri 09-17 UTC):
    # A 2 h, B 10:00 -> 18:00 = 7 h, D 5 h.
    business = await metrics.kpis(hours="business")
    assert business["resolution_time"]["mean"] == (2 + 7 + 5) * 3600 / 3
    as_of = await metrics.kpis(as_of=(T0 + 2 * H).isoformat())
    # The window is half-open: what happens at the as-of instant itself is not known yet.
    assert as_of["backlog"]["value"] == 3  # A (resolved at exactly +2 h), B, E; C created at +2 h


async def test_bad_requests_are_problems_naming_the_field(metrics: Metrics) -> None:
    cases = [
        ("/v1/kpis", {"from": WINDOW["to"], "to": WINDOW["from"]}, 422, "query.from"),
        ("/v1/kpis", {"priority": "P9"}, 422, "priority"),
        ("/v1/kpis", {"tier": "7"}, 422, "tier"),
        ("/v1/kpis", {"from": "yesterday"}, 422, "from"),
        ("/v1/kpis", {**WINDOW, "as_of": (T0 - D).isoformat()}, 422, "query.as_of"),
        ("/v1/kpis", {"from": "2020-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, 422, "query.to"),
        ("/v1/kpis/no_such_kpi", {}, 404, "path.name"),
        ("/v1/kpis/csat/breakdown", {"by": "colour"}, 422, "by"),
        ("/v1/kpis/csat", {"interval": "fortnight"}, 422, "interval"),
        ("/v1/kpis/csat", {"tz": "Mars/Olympus"}, 422, "query.tz"),
    ]
    for path, params, status, field in cases:
        response = await metrics.http.get(path, params=params)
        assert response.status_code == status, (path, params, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert any(field in e["field"] for e in response.json()["errors"]), response.json()
    response = await metrics.http.put("/v1/targets/nope", json={"value": 1, "direction": "higher"})
    assert response.status_code == 404


async def test_series_breakdown_and_agents(metrics: Metrics) -> None:
    series = (await metrics.http.get("/v1/kpis/ticket_volume",
                                     params={**WINDOW, "interval": "day"})).json()
    # UTC days, clipped to the window: Jan 5 09:00-24:00, Jan 6 .. Jan 11, Jan 12 00:00-09:00
    assert [p["value"] for p in series["points"]] == [3, 1, 0, 0, 0, 0, 0, 0]
    # Paris days: T0 is 10:00 local, so the first bucket runs T0 -> midnight Paris (23:00 UTC).
    paris = (await metrics.http.get("/v1/kpis/ticket_volume", params={
        **WINDOW, "interval": "day", "tz": "Europe/Paris"})).json()["points"]
    assert paris[0]["to"].startswith("2026-01-06T00:00:00+01:00")
    assert len(paris) == 8 and sum(p["value"] for p in paris) == 4
    weekly = (await metrics.http.get("/v1/kpis/backlog", params={**WINDOW, "interval": "week"})).json()
    # Monday weeks: T0 (Mon 09:00) -> Mon Jan 12 00:00, then 00:00 -> 09:00; C and E open at both ends
    assert [p["value"] for p in weekly["points"]] == [2, 2]

    rows = (await metrics.http.get("/v1/kpis/ticket_volume/breakdown",
                                   params={**WINDOW, "by": "channel"})).json()["rows"]
    assert {r["channel"]: r["value"] for r in rows} == {"chat": 1, "email": 1, "phone": 1, "portal": 1}

    agents = (await metrics.http.get("/v1/agents/performance", params=WINDOW)).json()["agents"]
    a1 = next(a for a in agents if a["agent"] == "a1")
    assert a1["resolved"] == 2 and a1["fcr"] == 0.5 and "competence_index" in a1


async def test_several_series_in_one_call_equal_the_single_series(metrics: Metrics) -> None:
    names = ["ticket_volume", "backlog", "resolution_time", "sla_compliance"]
    params = {**WINDOW, "interval": "day", "tz": "Europe/Paris"}
    many = await metrics.http.get("/v1/kpis/series", params={**params, "names": ",".join(names)})
    assert many.status_code == 200
    body = many.json()
    assert [s["name"] for s in body["series"]] == names
    for entry in body["series"]:
        single = (await metrics.http.get(f"/v1/kpis/{entry['name']}", params=params)).json()
        assert entry["points"] == single["points"]

    unknown = await metrics.http.get("/v1/kpis/series", params={**params, "names": "backlog,nope"})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "query.names"
    empty = await metrics.http.get("/v1/kpis/series", params={**params, "names": " , "})
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "query.names"


async def test_targets_cost_model_scorecard_and_forecast(metrics: Metrics) -> None:
    put = await metrics.http.put("/v1/targets/first_contact_resolution",
                                 json={"value": 0.3, "direction": "higher"})
    assert put.status_code == 200
    assert (await metrics.kpis())["first_contact_resolution"]["status"] == "met"  # 1/3 >= 0.3

    cost = {"default_hourly_cost": 36.0, "agent_costs": {"a1": 72.0}, "monthly_overhead": 0.0,
            "monthly_budget": 300.0, "value_per_resolved_ticket": 10.0}
    assert (await metrics.http.put("/v1/cost-model", json=cost)).status_code == 200
    kpis = await metrics.kpis()
    labour = 600 / 3600 * 72 + 300 / 3600 * 36  # a1 research, a2 talk
    assert kpis["cost_per_ticket"]["value"] == pytest.approx(labour / 3)
    assert kpis["budget_adherence"]["value"] == pytest.approx(labour / (300 * 7 / 30))
    assert kpis["roi"]["value"] == pytest.approx((30 - labour) / labour)

    card = (await metrics.http.get("/v1/scorecard", params=WINDOW)).json()
    assert set(card["perspectives"]) == {"financial", "customer", "internal_process", "learning_growth"}
    financial = {k["name"] for k in card["perspectives"]["financial"]}
    assert financial == {"cost_per_ticket", "budget_adherence", "roi"}
    volume = next(k for k in card["perspectives"]["internal_process"] if k["name"] == "ticket_volume")
    assert volume["baseline"] == 5  # first full week from the first ticket (E at T0 - 2 d): E A B C D
    computed = (await metrics.http.get("/v1/scorecard/baseline", params=WINDOW)).json()["values"]
    assert computed == {k["name"]: k["baseline"] for items in card["perspectives"].values()
                        for k in items}
    await metrics.http.put("/v1/scorecard/baseline", json={"values": {"ticket_volume": 10}})
    card = (await metrics.http.get("/v1/scorecard", params=WINDOW)).json()
    volume = next(k for k in card["perspectives"]["internal_process"] if k["name"] == "ticket_volume")
    assert volume["baseline"] == 10
    explicit = await metrics.http.get("/v1/scorecard/baseline", params=WINDOW)
    assert explicit.json() == {"values": {"ticket_volume": 10}}

    fc = (await metrics.http.get("/v1/backlog/forecast", params={**WINDOW, "days": 3})).json()
    assert fc["backlog"] == 2 and len(fc["points"]) == 3
    assert fc["points"][2]["expected"] == pytest.approx(2 + 3 / 7)


async def test_the_report_carries_the_forecast_and_agents_the_dashboard_draws(
    metrics: Metrics,
) -> None:
    for params in ({}, {"channel": "email"}, {"hours": "business"}):
        kpis = await metrics.kpis(**params)
        fc = (await metrics.http.get("/v1/backlog/forecast",
                                     params={**WINDOW, **params, "days": 14})).json()
        projected = kpis["projected_backlog"]
        details = projected["details"]
        assert (details["backlog"], details["points"]) == (fc["backlog"], fc["points"])
        assert len(fc["points"]) == 14 and details["points"][-1]["expected"] == projected["value"]

        agents = (await metrics.http.get("/v1/agents/performance",
                                         params={**WINDOW, **params})).json()["agents"]
        index = {a["agent"]: a["competence_index"]
                 for a in kpis["competence_index"]["details"]["agents"]}
        joined = [{**r, "competence_index": index[r["agent"]]}
                  for r in kpis["agent_performance"]["details"]["agents"]]
        assert joined == agents and agents


async def test_prometheus_exports_headline_gauges_without_ticket_ids(metrics: Metrics) -> None:
    expected = ("helpdesk_ticket_volume 5.0", "helpdesk_backlog_tickets 2.0", "helpdesk_sla_breaches 1.0")
    text = ""
    # A refresh may have run while the scenario was still being applied: wait for one after it.
    for _ in range(50):
        text = (await metrics.http.get("/metrics")).text
        if all(line in text for line in expected):
            break
        await asyncio.sleep(0.1)
    assert "helpdesk_ticket_volume 5.0" in text  # every ticket of the scenario, E included
    assert "helpdesk_backlog_tickets 2.0" in text
    assert "helpdesk_sla_breaches 1.0" in text
    assert "ticket_id" not in text
