"""Each projection's own state against the fold of intake's store: what it lacks, what it has twice.

"lost" names tickets whose effect a projection lacks (a row, a stopped clock, an assignment,
a survey, a resolution counted); "doubled" names tickets with an effect counted more than once
or one the store does not have (a second decision, a stale timer, a survey nobody was due).
Aggregates (an agent's load, a KPI) add `short` / `over`: how far the number is off.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

from helpdesk_events.routing import RoutingDecided
from helpdesk_surveys.domain.policy import sampled

from .fold import TicketTruth
from .seed import SURVEY_SAMPLE_RATE
from .system import fetch

#: The clocks the default SLA policy starts for every ticket of the stream.
CLOCKS = ("first_response", "resolution")
#: How many mismatches each check names in its notes.
NOTES = 3


@dataclass(frozen=True)
class ProjectionCheck:
    """One projection compared with the fold."""

    name: str
    lost: frozenset[str] = frozenset()
    doubled: frozenset[str] = frozenset()
    #: An aggregate below / above the fold (agent loads, KPIs), in tickets.
    short: int = 0
    over: int = 0
    #: The first few mismatches, for humans.
    notes: tuple[str, ...] = ()

    @property
    def lost_count(self) -> int:
        """Tickets this projection lost (or the aggregate shortfall, if larger)."""
        return max(len(self.lost), self.short)

    @property
    def doubled_count(self) -> int:
        """Tickets this projection counted twice (or the aggregate excess, if larger)."""
        return max(len(self.doubled), self.over)

    @property
    def ok(self) -> bool:
        """Equal to the fold."""
        return self.lost_count == 0 and self.doubled_count == 0


@dataclass
class _Findings:
    """Collects one projection's mismatches while it is compared."""

    name: str
    lost: set[str] = field(default_factory=set)
    doubled: set[str] = field(default_factory=set)
    short: int = 0
    over: int = 0
    notes: list[str] = field(default_factory=list)

    def miss(self, ticket: str, why: str) -> None:
        self.lost.add(ticket)
        self._note(f"lost {ticket[:8]}: {why}")

    def double(self, ticket: str, why: str) -> None:
        self.doubled.add(ticket)
        self._note(f"doubled {ticket[:8]}: {why}")

    def count(self, what: str, got: int | None, expected: int) -> None:
        if got is None:
            self.short += max(1, expected)
            self._note(f"{what}: unavailable (expected {expected})")
        elif got != expected:
            self.short += max(0, expected - got)
            self.over += max(0, got - expected)
            self._note(f"{what}: {got} != {expected}")

    def _note(self, text: str) -> None:
        if len(self.notes) < NOTES:
            self.notes.append(text)

    def result(self) -> ProjectionCheck:
        return ProjectionCheck(self.name, frozenset(self.lost), frozenset(self.doubled),
                               self.short, self.over, tuple(self.notes))


def _ids(truths: Mapping[str, TicketTruth]) -> list[uuid.UUID]:
    return [uuid.UUID(t) for t in truths]


async def check_routing(url: str, routing_api: str, truths: Mapping[str, TicketTruth],
                        headers: Mapping[str, str]) -> ProjectionCheck:
    """One decision per ticket, its view (assigned / done) and agent as the store has them,
    and every agent's open tickets equal to the store's unresolved tickets of that agent."""
    f = _Findings("routing")
    ids = _ids(truths)
    views = {str(r["ticket_id"]): r for r in await fetch(
        url, "SELECT ticket_id, state, agent FROM tickets WHERE ticket_id = ANY($1::uuid[])", ids)}
    decided = {str(r["ticket_id"]): r["n"] for r in await fetch(
        url, "SELECT ticket_id, count(*) AS n FROM decisions WHERE type = $2 "
             "AND ticket_id = ANY($1::uuid[]) GROUP BY ticket_id", ids, RoutingDecided.TYPE)}
    for ticket, truth in truths.items():
        view = views.get(ticket)
        decisions = decided.get(ticket, 0)
        if view is None or decisions == 0:
            f.miss(ticket, "routing never saw or never routed it")
            continue
        if decisions > 1 or truth.assignments > 1:
            f.double(ticket, f"{decisions} routing decisions, {truth.assignments} assignments")
        if truth.done and view["state"] != "done":
            f.miss(ticket, f"store {truth.status}, routing {view['state']}")
        elif not truth.done and view["state"] == "done":
            f.double(ticket, f"store {truth.status}, routing done")
        elif not truth.done and truth.agent is None:
            f.miss(ticket, f"routing chose {view['agent']}, the store has no assignment")
        elif truth.agent is not None and view["agent"] != truth.agent:
            f.miss(ticket, f"store agent {truth.agent}, routing {view['agent']}")
    expected = Counter(t.agent for t in truths.values() if not t.done and t.agent is not None)
    try:
        async with httpx.AsyncClient(timeout=15.0, headers=dict(headers)) as client:
            response = await client.get(f"{routing_api}/v1/agents")
        response.raise_for_status()
        loads: dict[str, int] | None = {a["id"]: a["open_tickets"] for a in response.json()}
    except httpx.HTTPError:
        loads = None
    for agent in sorted(set(expected) | set(loads or {})):
        f.count(f"open tickets of {agent}", None if loads is None else loads.get(agent, 0),
                expected[agent])
    return f.result()


async def check_sla(url: str, metrics_url: str, truths: Mapping[str, TicketTruth]) -> ProjectionCheck:
    """One SLA state per ticket with its clocks stopped exactly when the store resolved it,
    timers only for running clocks (one per clock and kind), and one verdict per stopped
    clock as metrics recorded it from helpdesk.sla."""
    f = _Findings("sla")
    ids = _ids(truths)
    states = {str(r["ticket_id"]): json.loads(r["state"]) for r in await fetch(
        url, "SELECT ticket_id, state FROM ticket_sla WHERE ticket_id = ANY($1::uuid[])", ids)}
    timers: dict[str, Counter[tuple[str, str]]] = {}
    for r in await fetch(url, "SELECT ticket_id, target, kind, count(*) AS n FROM sla_timers "
                              "WHERE ticket_id = ANY($1::uuid[]) GROUP BY 1, 2, 3", ids):
        timers.setdefault(str(r["ticket_id"]), Counter())[(r["target"], r["kind"])] = r["n"]
    verdicts: dict[str, Counter[str]] = {}
    for r in await fetch(metrics_url, "SELECT ticket_id, target, count(*) AS n FROM sla_outcomes "
                                      "WHERE ticket_id = ANY($1::uuid[]) GROUP BY 1, 2", ids):
        verdicts.setdefault(str(r["ticket_id"]), Counter())[r["target"]] = r["n"]
    for ticket, truth in truths.items():
        state = states.get(ticket)
        if state is None:
            f.miss(ticket, "no SLA state")
            continue
        if state["facts"]["status"] != truth.status:
            f.miss(ticket, f"store {truth.status}, sla {state['facts']['status']}")
        wanted = "stopped" if truth.done else "running"
        for clock in CLOCKS:
            status = state["clocks"].get(clock, {}).get("status")
            if status == wanted:
                continue
            if status == "stopped":
                f.double(ticket, f"{clock} clock stopped, store {truth.status}")
            else:
                f.miss(ticket, f"{clock} clock {status}, store {truth.status}")
        ticking = timers.get(ticket, Counter())
        if any(n > 1 for n in ticking.values()):
            f.double(ticket, f"duplicate timers {dict(ticking)}")
        if truth.done and ticking:
            f.double(ticket, f"timers of stopped clocks left: {sorted(ticking)}")
        if not truth.done and any(ticking[(c, "breach")] == 0 for c in CLOCKS):
            f.miss(ticket, f"breach timers {sorted(ticking)}")
        seen = verdicts.get(ticket, Counter())
        for clock in CLOCKS:
            expected = 1 if truth.done else 0
            if seen[clock] < expected:
                f.miss(ticket, f"no {clock} verdict reached metrics")
            elif seen[clock] > expected:
                f.double(ticket, f"{seen[clock]} {clock} verdicts in metrics")
    return f.result()


async def check_surveys(url: str, truths: Mapping[str, TicketTruth]) -> ProjectionCheck:
    """Its ticket facts (agent) as the store has them, and exactly one survey per resolved
    ticket the policy samples (none for the others)."""
    f = _Findings("surveys")
    ids = _ids(truths)
    known = {str(r["ticket_id"]): r for r in await fetch(
        url, "SELECT ticket_id, agent FROM tickets WHERE ticket_id = ANY($1::uuid[])", ids)}
    surveyed = {str(r["ticket_id"]): r["n"] for r in await fetch(
        url, "SELECT ticket_id, count(*) AS n FROM surveys WHERE ticket_id = ANY($1::uuid[]) "
             "GROUP BY ticket_id", ids)}
    for ticket, truth in truths.items():
        row = known.get(ticket)
        if row is None:
            f.miss(ticket, "surveys never saw it")
            continue
        if row["agent"] != truth.agent:
            f.miss(ticket, f"store agent {truth.agent}, surveys {row['agent']}")
        expected = int(truth.resolutions > 0 and sampled(uuid.UUID(ticket), SURVEY_SAMPLE_RATE))
        got = surveyed.get(ticket, 0)
        if got < expected:
            f.miss(ticket, "resolved and sampled, but no survey")
        elif got > expected:
            f.double(ticket, f"{got} surveys, {expected} due")
    return f.result()


async def kpis(metrics_api: str, since: datetime, headers: Mapping[str, str]) -> dict[str, Any]:
    """metrics' KPIs for [since, now + 1 h), by name."""
    until = datetime.now(timezone.utc) + timedelta(hours=1)
    async with httpx.AsyncClient(timeout=15.0, headers=dict(headers)) as client:
        response = await client.get(
            f"{metrics_api}/v1/kpis", params={"from": since.isoformat(), "to": until.isoformat()}
        )
    response.raise_for_status()
    return {k["name"]: k for k in response.json()["kpis"]}


def _number(kpis_by_name: Mapping[str, Any] | None, name: str, detail: str | None = None) -> int | None:
    kpi = (kpis_by_name or {}).get(name)
    if kpi is None:
        return None
    value = (kpi.get("details") or {}).get(detail) if detail else kpi.get("value")
    return None if value is None else int(value)


async def check_metrics(url: str, truths: Mapping[str, TicketTruth],
                        kpis_by_name: Mapping[str, Any] | None) -> ProjectionCheck:
    """Its ticket facts (status, agent, resolutions) as the store has them, and the KPIs
    ticket_volume, backlog and resolved (opened_vs_resolved) equal to the fold's counts."""
    f = _Findings("metrics")
    facts = {str(r["ticket_id"]): r for r in await fetch(
        url, "SELECT ticket_id, status, agent, resolutions FROM ticket_facts "
             "WHERE ticket_id = ANY($1::uuid[])", _ids(truths))}
    for ticket, truth in truths.items():
        row = facts.get(ticket)
        if row is None:
            f.miss(ticket, "no ticket facts")
            continue
        if row["resolutions"] > truth.resolutions:
            f.double(ticket, f"{row['resolutions']} resolutions, store {truth.resolutions}")
        elif row["resolutions"] < truth.resolutions or row["status"] != truth.status:
            f.miss(ticket, f"status {row['status']}/{row['resolutions']} resolutions, "
                           f"store {truth.status}/{truth.resolutions}")
        if row["agent"] != truth.agent:
            f.miss(ticket, f"store agent {truth.agent}, metrics {row['agent']}")
    done = sum(t.done for t in truths.values())
    f.count("ticket_volume", _number(kpis_by_name, "ticket_volume"), len(truths))
    f.count("backlog", _number(kpis_by_name, "backlog"), len(truths) - done)
    f.count("resolved", _number(kpis_by_name, "opened_vs_resolved", "resolved"), done)
    return f.result()
