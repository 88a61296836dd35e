"""Acceptance: 60 tickets' histories through the real broker into the real metrics process.

The histories span hours of a past week, which intake's REST API (real clock) cannot backdate,
so they are published to `helpdesk.tickets` (and survey / routing facts to their topics) from
the test, in exactly the envelopes the producers use; the real sla service decides the SLA
outcomes from them. The period is a random week years back, so no
other test's events fall into the window; agents, team, category and service are unique to
the run. Every expected value below is arithmetic from the scenario.

The scenario runs twice, with the same expected values: against the session's services on
PostgreSQL, and against sla and metrics alone as processes on SQLite files (the embedded
mode) beside a private broker of their own.

Scenario: 60 tickets created at t0 + i * 10 min (i = 0..59), one category, assigned at creation
to tier 1, agent ag1/ag2/ag3 by i % 3. Groups g = i // 10:
- g0 email, vpn service: reply +1 h, resolved +2 h (FCR). CSAT 5 + NPS 10.
- g1 phone, vpn service: reply +2 h, transferred +3 h, resolved +4 h. CSAT 4 + CES 2.
- g2 chat: reply +1 h, 600 s talk at +1 h (a second contact), pending +3 h .. +5 h, escalated to
  tier 2 at +5 h, resolved +6 h. Survey sent, unanswered.
- g3 portal: reply +1 h, resolved +2 h, reopened +3 h, resolved +5 h. CSAT 2 + NPS 3.
- g4 email, same requesters as g0 (repeat incidents): reply +30 min, still open; even i are P1.
- g5 api, changes: reply +1 h, 1200 s research at +90 min, change implemented (7 of 10 succeed),
  resolved +2 h.
SLA: the real sla service, with a policy of one 90-minute first-response target (24x7) on the
run's category: every group replies within 90 min except g1 (+2 h), whose clocks breach.
Agents online from t0: ag1 and ag2 until t0 + 10 h, ag3 for good. Two agent-satisfaction
answers: 4 and 5. All work is logged by ag2 (default hourly cost).
"""

from __future__ import annotations

import asyncio
import math
import random
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from helpdesk_events.codec import encode
from helpdesk_events.kafka import make_producer
from helpdesk_metrics.testing import History

from .conftest import System
from .sqlite_system import sqlite_system

H = timedelta(hours=1)
MIN = timedelta(minutes=1)
DAY = timedelta(days=1)
WEEK = 7 * DAY
N = 60


def build(t0: datetime, run: str) -> tuple[History, list[uuid.UUID]]:
    """The scenario of the module docstring."""
    h = History()
    category, service, team = f"cat-{run}", f"svc-{run}", f"desk-{run}"
    agents = [f"ag{k}-{run}" for k in (1, 2, 3)]
    worker = agents[1]
    channels = ["email", "phone", "chat", "portal", "email", "api"]
    tickets = []
    for i in range(N):
        g, c = i // 10, t0 + i * 10 * MIN
        requester = f"req{i - 40 if g == 4 else i}-{run}"
        tid = h.ticket(c, channel=channels[g], type="change" if g == 5 else "incident",
                       category=category, priority="P1" if g == 4 and i % 2 == 0 else "P3",
                       requester=requester, service=service if g in (0, 1) else None)
        tickets.append(tid)
        me = agents[i % 3]
        h.assign(tid, c, tier=1, team=team, agent_id=me)
        if g == 0:
            h.reply(tid, c + H, me)
            h.resolve(tid, c + 2 * H, me)
            h.survey(tid, c + 2 * H, {"csat": 5, "nps": 10}, c + 3 * H, agent_id=me, kinds=("csat", "nps"))
        elif g == 1:
            h.reply(tid, c + 2 * H, me)
            h.transfer(tid, c + 3 * H, to_team=f"net-{run}", to_agent=me)
            h.resolve(tid, c + 4 * H, me)
            h.survey(tid, c + 4 * H, {"csat": 4, "ces": 2}, c + 5 * H, agent_id=me, kinds=("csat", "ces"))
        elif g == 2:
            h.reply(tid, c + H, me)
            h.work(tid, c + H, 600, kind="talk", agent_id=worker)
            h.set_status(tid, c + 3 * H, "pending")
            h.set_status(tid, c + 5 * H, "open")
            h.escalate(tid, c + 5 * H, to_tier=2, to_team=team, to_agent=me)
            h.resolve(tid, c + 6 * H, me)
            h.survey(tid, c + 6 * H, agent_id=me)
        elif g == 3:
            h.reply(tid, c + H, me)
            h.resolve(tid, c + 2 * H, me)
            h.reopen(tid, c + 3 * H)
            h.resolve(tid, c + 5 * H, me)
            h.survey(tid, c + 5 * H, {"csat": 2, "nps": 3}, c + 6 * H, agent_id=me, kinds=("csat", "nps"))
        elif g == 4:
            h.reply(tid, c + 30 * MIN, me)
        else:
            h.reply(tid, c + H, me)
            h.work(tid, c + 90 * MIN, 1200, kind="research", agent_id=worker)
            h.change(tid, c + 90 * MIN, success=i % 10 < 7)
            h.resolve(tid, c + 2 * H, me)
    for k, score in ((0, 4), (1, 5)):
        h.survey(None, t0 + H, {"agent_satisfaction": score}, t0 + 2 * H, agent_id=agents[k],
                 kinds=("agent_satisfaction",))
    for a in agents:
        h.agent_status(a, t0, "online", teams=(team,))
    h.agent_status(agents[0], t0 + 10 * H, "offline", teams=(team,))
    h.agent_status(agents[1], t0 + 10 * H, "offline", teams=(team,))
    return h, tickets


def expected(run: str) -> dict[str, dict[str, Any]]:
    """Every KPI's expected value, from the scenario's arithmetic."""
    s = WEEK.total_seconds()
    resolved = 50  # every group but g4
    frt = [3600] * 10 + [7200] * 10 + [3600] * 10 + [3600] * 10 + [1800] * 10 + [3600] * 10
    wait = [7200] * 10 + [14400] * 10 + [4 * 3600] * 10 + [4 * 3600] * 10 + [7200] * 10
    ttr = [7200] * 10 + [14400] * 10 + [21600] * 10 + [18000] * 10 + [7200] * 10
    online = 10 * 3600 + 10 * 3600 + s  # ag1, ag2 ten hours; ag3 the whole week
    work = 10 * 600 + 10 * 1200
    labour = work / 3600 * 50
    cost = labour + 300 * 7 / 30
    nets = [60 - 50, 0, 0, 0, 0, 0, 0]
    m = sum(nets) / 7
    sd = math.sqrt(sum((n - m) ** 2 for n in nets) / 6)
    half = 1.96 * sd * math.sqrt(14 + 14 * 14 / 7)
    return {
        "ticket_volume": {"value": 60},
        "volume_by_channel": {"value": 60, "breakdown": {"api": 10, "chat": 10, "email": 20, "phone": 10, "portal": 10}},
        "ticket_distribution": {"breakdown": {"category": {f"cat-{run}": 60},
                                              "type": {"change": 10, "incident": 50}, "tag": {}}},
        "opened_vs_resolved": {"numerator": resolved, "denominator": 60},
        "backlog": {"value": 10, "breakdown": {"<1d": 0, "1-3d": 0, "3-7d": 10, "7-30d": 0, ">=30d": 0}},
        "high_priority_backlog": {"value": 5},
        "projected_backlog": {"value": 10 + 14 * m,
                              "details.lower": max(0.0, 10 + 14 * m - half),
                              "details.upper": 10 + 14 * m + half},
        "first_response_time": {"mean": sum(frt) / 60, "median": 3600, "p90": 7200, "count": 60},
        "requester_wait_time": {"mean": sum(wait) / 50, "median": 14400, "p90": 14400},
        "resolution_time": {"mean": sum(ttr) / 50, "median": 14400, "p90": 21600},
        "turnaround_time": {"mean": sum(ttr) / 50, "median": 14400},  # assigned at creation
        "average_handle_time": {"value": work / 50, "numerator": work, "median": 0, "p90": 1200},
        "first_contact_resolution": {"numerator": 20, "denominator": 50},  # g0 and g5
        "tier1_resolution_rate": {"numerator": 40, "denominator": 50},  # all but g2
        "escalation_rate": {"numerator": 10, "denominator": 60},
        "transfer_rate": {"numerator": 10, "denominator": 60},
        "reopen_rate": {"numerator": 10, "denominator": 60},  # resolutions: 50 + g3's second
        "repeat_incidents": {"numerator": 10, "denominator": 60,
                             "details.next_issue_avoidance": 50 / 60},
        # The real sla service, one 90 min first-response target: only g1 (reply +2 h) breaches.
        "sla_compliance": {"numerator": 50, "denominator": 60, "breakdown": {
            "first_response": {"met": 50, "breached": 10, "compliance": 50 / 60}}},
        "sla_breaches": {"value": 10, "breakdown": {"first_response": 10}},
        "csat": {"numerator": 20, "denominator": 30, "mean": (10 * 5 + 10 * 4 + 10 * 2) / 30},
        "nps": {"value": 100 * (10 - 10) / 20},
        "ces": {"value": 2},
        "survey_response_rate": {"numerator": 30 + 2, "denominator": 40 + 2},
        "agent_satisfaction": {"value": (4 + 5) / 2},
        "agent_utilization": {"numerator": work, "denominator": online},
        "agent_availability": {"numerator": online, "denominator": 3 * s},
        "agent_performance": {"value": 3},
        "competence_index": {"count": 3},
        "workload_balance": {"value": 0.0, "breakdown": {f"ag3-{run}": 3}},  # i = 41, 44, 47
        "cost_per_ticket": {"numerator": cost, "denominator": 50},
        "budget_adherence": {"value": cost / (3000 * 7 / 30)},
        "roi": {"value": (20 * 50 - cost) / cost},
        "change_success_rate": {"numerator": 7, "denominator": 10},
        "incidents_by_service": {"value": 50, "breakdown": {
            "(none)": {"incidents": 30, "mtbi_seconds": s / 30},
            f"svc-{run}": {"incidents": 20, "mtbi_seconds": s / 20}}},
    }


def mismatches(kpis: dict[str, dict[str, Any]], want: dict[str, dict[str, Any]]) -> list[str]:
    out = []
    for name, fields in want.items():
        for field, value in fields.items():
            got: Any = kpis[name]
            for part in field.split("."):
                got = got.get(part) if isinstance(got, dict) else None
            ok = (math.isclose(got, value, rel_tol=1e-9, abs_tol=1e-9)
                  if isinstance(value, float) and isinstance(got, (int, float)) else got == value)
            if not ok:
                out.append(f"{name}.{field}: got {got!r}, want {value!r}")
    return out


async def play(system: System, http: httpx.AsyncClient, bootstrap: str) -> None:
    """Publish the scenario to `bootstrap`, then check every KPI, as_of, a slice and rebuild.

    `system` must run sla and metrics on that broker (`http` carries a token they accept).
    """
    run = uuid.uuid4().hex[:8]
    t0 = datetime(2026, 1, 5, 9, tzinfo=UTC) - 28 * DAY * random.randrange(600, 1200)
    history, _ = build(t0, run)
    url = system.urls["metrics"]
    cost = {"default_hourly_cost": 50.0, "monthly_overhead": 300.0, "monthly_budget": 3000.0,
            "value_per_resolved_ticket": 20.0}
    assert (await http.put(f"{url}/v1/cost-model", json=cost)).status_code == 200
    # SLA outcomes come from the real sla service: one first-response target for our category.
    policy = {"name": f"metrics-{run}", "conditions": {"categories": [f"cat-{run}"]}, "order": 0,
              "targets": {"first_response": 90 * 60}, "calendar_id": "24x7"}
    created = await http.post(f"{system.urls['sla']}/v1/policies", json=policy)
    assert created.status_code == 201, created.text

    # The histories are years old but published now, one record after the other: a live sla
    # could see a creation, long overdue by the wall clock, before the reply that met it is
    # even on the topic. As after an outage, sla starts once everything is there: it handles
    # the stream before it decides what breached (the scheduler never fires past the event
    # time it has handled). Published in time order, as intake would have: a partition's
    # event times then only grow, which is what that watermark relies on.
    system.kill("sla")
    producer = make_producer(bootstrap)
    await producer.start()
    try:
        for envelope in sorted(history.envelopes, key=lambda e: e.time):
            record = encode(envelope)
            await producer.send_and_wait(record.topic, record.value, key=record.key,
                                         headers=list(record.headers))
    finally:
        await producer.stop()
    system.start("sla")

    window = {"from": t0.isoformat(), "to": (t0 + WEEK).isoformat()}

    async def kpis(**extra: str) -> dict[str, dict[str, Any]]:
        response = await http.get(f"{url}/v1/kpis", params={**window, **extra}, timeout=60)
        assert response.status_code == 200, response.text
        return {k["name"]: k for k in response.json()["kpis"]}

    want = expected(run)
    deadline, wrong = time.monotonic() + 120, ["not polled"]
    while time.monotonic() < deadline:
        wrong = mismatches(await kpis(), want)
        if not wrong:
            break
        await asyncio.sleep(0.5)
    assert wrong == []
    live = await kpis()
    assert live["ticket_volume"]["trend"]["previous"] == 0

    # As of t0 + 3 h: tickets 0..17 created; g0 tickets 0..5 resolved by then (+2 h).
    past = await kpis(as_of=(t0 + 3 * H).isoformat())
    assert past["ticket_volume"]["value"] == 18
    assert past["opened_vs_resolved"]["numerator"] == 6
    assert past["backlog"]["value"] == 12
    # Slices: the g1 (phone) tickets only.
    phone = await kpis(channel="phone")
    assert phone["ticket_volume"]["value"] == 10
    assert (phone["sla_compliance"]["numerator"], phone["sla_compliance"]["denominator"]) == (0, 10)

    rebuilt = await http.post(f"{url}/v1/admin/rebuild", timeout=300)
    assert rebuilt.status_code == 200, rebuilt.text
    again = await kpis()
    assert {k: v["value"] for k, v in again.items()} == {k: v["value"] for k, v in live.items()}
    assert mismatches(again, want) == []


@pytest.fixture(scope="module")
def sqlite_pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[System, str]]:
    """sla and metrics on SQLite files and a private broker, once for this module."""
    with sqlite_system(tmp_path_factory.mktemp("e2e-sqlite"), ("sla", "metrics")) as pair:
        yield pair


async def test_sixty_ticket_scenario_gives_every_kpi_and_rebuild_equals_live(
    system: System, http: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    await play(system, http, kafka_bootstrap)


async def test_sixty_ticket_scenario_gives_the_same_kpis_on_sqlite(
    sqlite_pair: tuple[System, str],
) -> None:
    sqlite, bootstrap = sqlite_pair
    async with sqlite.client(timeout=10.0) as http:
        await play(sqlite, http, bootstrap)
