"""The ops dashboard in headless Chromium: its tiles show what GET /v1/kpis says, for the same filters.

A short seeded simulation runs through the real services first, so the page has live data;
the screenshot it saves (docs/dashboard.png) is the one the README shows.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from playwright.async_api import Page, async_playwright
from pydantic import SecretStr

from helpdesk.simulate import Options
from helpdesk.simulate.credentials import Credentials
from helpdesk.simulate.curve import HOUR, parse_clock
from helpdesk.simulate.runner import simulate
from helpdesk.simulate.seeding import Urls
from helpdesk_runtime.auth import AuthSettings, mint_token

from .conftest import System

DOCS = Path(__file__).resolve().parents[2] / "docs"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HEADLINE = {"ticket_volume", "backlog", "high_priority_backlog", "projected_backlog", "first_response_time",
            "resolution_time", "first_contact_resolution", "sla_compliance", "sla_breaches", "csat", "nps",
            "ces", "reopen_rate", "escalation_rate", "agent_utilization", "cost_per_ticket"}
UNLABELLED = "() => [...document.querySelectorAll('input, select')].filter((e) => !e.labels.length).map((e) => e.id)"
COUNTER = "(name) => Number(document.body.dataset[name] || 0)"
# One evaluate reads the tiles and the query they came from together, so a poll cannot split them.
READ_TILES = """() => ({
  query: document.getElementById('tiles').dataset.query,
  drawn: Number(document.body.dataset.tiles || 0),
  tiles: Object.fromEntries([...document.querySelectorAll('#tiles [data-kpi]')].map(
    (t) => [t.dataset.kpi, t.querySelector('[data-value]').dataset.value])),
})"""


def _admin_token(secret: str | None) -> str:
    # Signed with the services' secret when auth is on; with any secret otherwise (then ignored).
    key = SecretStr(secret or secrets.token_urlsafe(32))
    return mint_token(AuthSettings(secret=key), "dashboard-e2e", ["admin"])


async def _wait_for(page: Page, counter: str, after: int, timeout_s: float = 30) -> None:
    """Until the page's `counter` (tiles drawn, polls drawn, whole page refreshed) exceeds `after`.

    Polled from here: the page's CSP forbids the eval that page.wait_for_function needs.
    """
    deadline = time.monotonic() + timeout_s
    while (count := await page.evaluate(COUNTER, counter)) <= after:
        assert time.monotonic() < deadline, f"{counter} is {count}, expected more than {after}"
        await asyncio.sleep(0.1)


#: Each scorecard table's rows: [kpi, class of the status cell].
READ_SCORECARD = """() => Object.fromEntries([...document.querySelectorAll("#scorecard table")].map(
  (t) => [t.dataset.perspective, [...t.tBodies[0].rows].map(
    (r) => [r.dataset.kpi, r.cells[4].getAttribute("class")])]))"""


#: The backlog chart (description and data) or the agents table (each row's cells), with the
#: query of the tiles: read in one evaluate, so a poll cannot split them.
READ_BACKLOG = """() => {
  const chart = window.Chart.getChart(document.getElementById("c-backlog"));
  return { query: document.getElementById("tiles").dataset.query, drawn: {
    text: document.getElementById("c-backlog-d").textContent, labels: chart.data.labels,
    datasets: Object.fromEntries(chart.data.datasets.map((d) => [d.label, d.data])) } };
}"""
READ_AGENTS = """() => ({ query: document.getElementById("tiles").dataset.query,
  drawn: [...document.getElementById("agents").tBodies[0].rows].map(
    (r) => [...r.cells].map((c) => c.textContent)) })"""


def _fixed(value: float, digits: int) -> str:
    """JavaScript's `value.toFixed(digits)`: the exact binary value, halves away from zero."""
    # `+ 0.0` turns -0.0 into 0.0, which toFixed writes without a sign.
    return str(Decimal(value + 0.0).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def _duration(s: float | None) -> str:
    """dashboard.js `format(s, "seconds")`."""
    if s is None:
        return "—"
    if s < 90:
        return f"{_fixed(s, 0)} s"
    if s < 5400:
        return f"{_fixed(s / 60, 0)} min"
    if s < 172800:
        return f"{_fixed(s / 3600, 1)} h"
    return f"{_fixed(s / 86400, 1)} d"


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{_fixed(v * 100, 1)} %"


def _agents_table(doc: dict[str, Any]) -> list[list[str]]:
    """The agents table dashboard.js draws from GET /v1/agents/performance."""
    rows = [[a["agent"], str(a["resolved"]), _duration(a["first_response_time"]),
             _duration(a["resolution_time"]), _pct(a["fcr"]), _pct(a["csat"]),
             _pct(a["reopen_rate"]), _pct(a["utilization"]),
             "—" if a["competence_index"] is None else _fixed(a["competence_index"], 2)]
            for a in doc["agents"]]
    return rows or [["No agent activity in this window."]]


def _backlog_forecast(fc: dict[str, Any]) -> dict[str, Any]:
    """The forecast part of the backlog chart dashboard.js draws from GET /v1/backlog/forecast."""
    last = fc["points"][-1]
    return {
        "text": f"Backlog now {fc['backlog']}; in {last['day']} days expected "
                f"{_fixed(last['expected'], 1)} ({_fixed(last['lower'], 1)} to "
                f"{_fixed(last['upper'], 1)}).",
        "labels": [f"+{p['day']}d" for p in fc["points"]],
        "datasets": {name: [p[key] for p in fc["points"]] for name, key in (
            ("Forecast", "expected"), ("Forecast lower (95 %)", "lower"),
            ("Forecast upper (95 %)", "upper"))},
    }


def _drawn_forecast(drawn: dict[str, Any]) -> dict[str, Any]:
    """The forecast part of the drawn backlog chart: the labels and values after the history."""
    days = sum(label.startswith("+") for label in drawn["labels"])
    return {"text": drawn["text"], "labels": drawn["labels"][-days:],
            "datasets": {name: drawn["datasets"][name][-days:] for name in (
                "Forecast", "Forecast lower (95 %)", "Forecast upper (95 %)")}}


async def _drawn_matches_api(page: Page, read: str, shape: Callable[[Any], Any],
                             expected: Callable[[str], Awaitable[Any]], what: str) -> None:
    """What the page drew (`read`, `shape`d) equals `expected` for the tiles' query; a refresh
    may be between its tiles and its charts, so a disagreement waits for the next one (twice)."""
    for _ in range(3):
        refreshed = await page.evaluate(COUNTER, "refreshed")
        shown = await page.evaluate(read)
        drawn, wanted = shape(shown["drawn"]), await expected(shown["query"])
        if drawn == wanted:
            return
        await _wait_for(page, "refreshed", refreshed)
    raise AssertionError(f"the drawn {what} disagrees with the API for {shown['query']}: "
                         f"{drawn} != {wanted}")


#: KPIs that count agents' time online up to the instant of the read: the page's window ends
#: at the next whole minute, ahead of the clock, so the API asked a moment later has counted
#: more time online. Their tiles are checked against the answer the page itself received.
LIVED = frozenset({"agent_utilization"})


def _mismatches(tiles: dict[str, str], report: dict[str, Any],
                received: dict[str, Any] | None = None) -> dict[str, tuple[str, Any]]:
    api = {k["name"]: k["value"] for k in report["kpis"]}
    if received is not None:
        api.update({k["name"]: k["value"] for k in received["kpis"] if k["name"] in LIVED})
    return {name: (shown, api.get(name)) for name, shown in tiles.items()
            if (float(shown) if shown else None) != api.get(name)}


def _query(query: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(parse_qsl(query)))


async def _tiles_match_api(page: Page, http: httpx.AsyncClient, metrics: str, headers: dict[str, str],
                           received: dict[tuple[tuple[str, str], ...], Any],
                           wanted: str = "") -> tuple[dict[str, Any], dict[str, Any]]:
    """The page's tiles (drawn for a query containing `wanted`) once they equal the API's answer
    to the page's own query (`LIVED` ones: the answer the page received, kept in `received` by
    query); a disagreement is asked again twice (an event may have been in flight)."""
    deadline = time.monotonic() + 30
    while wanted not in (shown := await page.evaluate(READ_TILES))["query"]:
        assert time.monotonic() < deadline, f"the page never asked for {wanted}: {shown['query']}"
        await asyncio.sleep(0.1)
    for _ in range(3):
        response = await http.get(f"{metrics}/v1/kpis?{shown['query']}", headers=headers)
        assert response.status_code == 200, response.text
        report = response.json()
        assert set(shown["tiles"]) == HEADLINE
        wrong = _mismatches(shown["tiles"], report, received.get(_query(shown["query"])))
        if not wrong:
            return shown, report
        # An event still in flight when the page asked: ask both again.
        await page.click("#refresh-now")
        await _wait_for(page, "tiles", shown["drawn"])
        shown = await page.evaluate(READ_TILES)
    raise AssertionError(f"tiles disagree with GET /v1/kpis?{shown['query']}: {wrong}")


async def _wait_for_metrics(http: httpx.AsyncClient, metrics: str, headers: dict[str, str],
                            namespace: str, expected: int) -> None:
    """Until metrics has projected every simulated ticket (categories carry the namespace)."""
    deadline = time.monotonic() + 30
    seen = -1
    while time.monotonic() < deadline:
        response = await http.get(f"{metrics}/v1/kpis/ticket_volume/breakdown",
                                  params={"by": "category"}, headers=headers)
        assert response.status_code == 200, response.text
        seen = sum(r["value"] for r in response.json()["rows"] if r["category"].startswith(namespace))
        if seen >= expected:
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"metrics projected {seen} of {expected} simulated tickets")


async def test_the_dashboard_shows_the_api_kpis_and_follows_its_filters(
    system: System, http: httpx.AsyncClient
) -> None:
    metrics = system.urls["metrics"]
    secret = system.envs["metrics"].get("AUTH_SECRET")
    token = _admin_token(secret)
    headers = {"Authorization": f"Bearer {token}"}
    namespace = f"dash{uuid.uuid4().hex[:6]}"
    urls = Urls(**system.urls)
    outcome = await simulate(Options(seed=5, duration=HOUR, rate=20, start=parse_clock("Mon 08:30"),
                                     namespace=namespace), urls, speed=2400,
                             credentials=Credentials(secret=secret) if secret else None)
    try:
        created = len(outcome.result.ticket_ids)
        assert created >= 10
        await _wait_for_metrics(http, metrics, headers, namespace, created)
        async with httpx.AsyncClient(base_url=metrics, timeout=10.0) as anonymous:
            for path in ("/dashboard", "/dashboard/static/dashboard.js", "/dashboard/static/dashboard.css"):
                assert (await anonymous.get(path)).status_code == 200, path  # the page needs no token
            assert (await anonymous.get("/dashboard/static/vendor/chart.js-4.6.1/LICENSE.md")).status_code == 404

        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = await browser.new_page(viewport={"width": 1440, "height": 900})
            errors: list[str] = []
            api_calls: list[tuple[str, str | None]] = []
            foreign: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

            def record(request: Any) -> None:
                if not request.url.startswith(metrics):
                    foreign.append(request.url)
                elif "/v1/" in request.url:
                    api_calls.append((request.url, request.headers.get("authorization")))

            page.on("request", record)
            received: dict[tuple[tuple[str, str], ...], Any] = {}

            async def keep(response: Any) -> None:
                url = urlsplit(response.url)
                if url.path == "/v1/kpis" and response.ok:
                    received[_query(url.query)] = await response.json()

            page.on("response", keep)
            await page.goto(f"{metrics}/dashboard?window=7d&refresh=5#token={token}")
            await _wait_for(page, "refreshed", 0)
            assert "token=" not in page.url
            assert await page.evaluate(UNLABELLED) == []

            shown, report = await _tiles_match_api(page, http, metrics, headers, received)
            assert "channel=" not in shown["query"]
            # The page groups the report into the scorecard itself: as GET /v1/scorecard would.
            card = (await http.get(f"{metrics}/v1/scorecard?{shown['query']}", headers=headers)).json()
            drawn = await page.evaluate(READ_SCORECARD)
            assert drawn == {p: [[k["name"], f"state-{k['status']}" if k["status"] else None]
                                 for k in items] for p, items in card["perspectives"].items()}
            # The forecast and the agents table come from the report too: as their own routes say.

            async def api(path: str) -> Any:
                response = await http.get(f"{metrics}{path}", headers=headers)
                assert response.status_code == 200, response.text
                return response.json()

            async def forecast(query: str) -> dict[str, Any]:
                return _backlog_forecast(await api(f"/v1/backlog/forecast?{query}&days=14"))

            async def agents(query: str) -> list[list[str]]:
                doc = await api(f"/v1/agents/performance?{query}")
                # Utilization counts time online up to each read (LIVED): the page's own.
                page_report = received[_query(query)]
                lived = {r["agent"]: r["utilization"] for k in page_report["kpis"]
                         if k["name"] == "agent_performance" for r in k["details"]["agents"]}
                return _agents_table({"agents": [{**a, "utilization": lived[a["agent"]]}
                                                 for a in doc["agents"]]})

            await _drawn_matches_api(page, READ_BACKLOG, _drawn_forecast, forecast, "forecast")
            await _drawn_matches_api(page, READ_AGENTS, lambda rows: rows, agents, "agents table")
            await page.screenshot(path=str(DOCS / "dashboard.png"), full_page=True)

            by_name = {k["name"]: k for k in report["kpis"]}
            volume = by_name["volume_by_channel"]["breakdown"]
            total = by_name["ticket_volume"]["value"]
            channel = max((c for c, n in volume.items() if n < total), key=volume.get)
            await page.select_option("#f-channel", channel)
            filtered, _ = await _tiles_match_api(page, http, metrics, headers, received,
                                                 f"channel={channel}")
            assert float(filtered["tiles"]["ticket_volume"]) == volume[channel] != float(shown["tiles"]["ticket_volume"])

            # Without a token in the address: the page says so, then takes one from its field.
            bare = await (await browser.new_context()).new_page()
            await bare.goto(f"{metrics}/dashboard?window=7d&refresh=0")
            await bare.wait_for_selector("#status.error")
            assert "needs a token" in await bare.text_content("#status")
            await bare.fill("#token", token)
            await bare.click("#token-form button")
            await _wait_for(bare, "tiles", 0)

            # Live: the page polls every 5 s on its own and redraws without reloading.
            await _wait_for(page, "polls", 0)
            await browser.close()

        assert not errors, errors
        assert not foreign, f"the page loaded from elsewhere: {foreign}"
        assert api_calls and all(auth == f"Bearer {token}" for _, auth in api_calls), api_calls
        # The forecast and the agents table are drawn from the report: the page never asks for them.
        paths = {urlsplit(url).path for url, _ in api_calls}
        assert not paths & {"/v1/backlog/forecast", "/v1/agents/performance"}, paths
    finally:
        for agent in outcome.plan.org.agents:
            await http.put(f"{urls.routing}/v1/agents/{agent.id}/status", json={"status": "offline"},
                           headers=headers)
