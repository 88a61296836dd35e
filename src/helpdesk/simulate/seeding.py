"""Seed the organisation through the services' REST APIs, reusing whatever already exists.

Teams, agents, rules, the calendar and SLA policies have ids of their own: a GET decides
whether to PUT. Survey policies get server ids, so they are found by name. With a
namespace, SLA and survey policies are limited to the namespace's categories and the
routing rules match only them, so other traffic on the same system is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from .catalog import Org

DAY_HOURS = [{"weekday": d, "start": "08:00", "end": "18:00"} for d in range(5)]
#: SLA targets per priority in business seconds: first response, next response, resolution.
SLA_TARGETS = {
    "P1": (15 * 60, 30 * 60, 4 * 3600),
    "P2": (60 * 60, 2 * 3600, 8 * 3600),
    "P3": (4 * 3600, 8 * 3600, 30 * 3600),
    "P4": (8 * 3600, 16 * 3600, 50 * 3600),
}


@dataclass(frozen=True)
class Urls:
    """Base URLs of the five services."""

    intake: str = "http://localhost:8001"
    routing: str = "http://localhost:8002"
    sla: str = "http://localhost:8003"
    metrics: str = "http://localhost:8004"
    surveys: str = "http://localhost:8005"


@dataclass
class SeedReport:
    """What seeding created and what it found already there."""

    created: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)


class SeedError(RuntimeError):
    """A service refused part of the organisation."""


def _check(response: httpx.Response, what: str) -> Any:
    if response.status_code >= 300:
        raise SeedError(f"{what}: HTTP {response.status_code}: {response.text[:500]}")
    return response.json() if response.content else None


async def _ensure(client: httpx.AsyncClient, url: str, body: dict[str, Any], what: str,
                  report: SeedReport) -> None:
    """PUT `body` to `url` unless a GET finds it already."""
    if (await client.get(url)).status_code == 200:
        report.reused.append(what)
        return
    _check(await client.put(url, json=body), what)
    report.created.append(what)


def team_bodies(org: Org) -> list[dict[str, Any]]:
    """Routing's teams."""
    return [{"id": t.id, "name": t.name, "tier": t.tier, "categories": list(t.categories),
             "languages": list(t.languages), "strategy": t.strategy} for t in org.teams]


def agent_bodies(org: Org) -> list[dict[str, Any]]:
    """Routing's agents (offline until the simulation brings them online)."""
    return [{"id": a.id, "name": a.name, "teams": [a.team], "tier": a.tier, "capacity": a.capacity,
             "skills": list(a.skills), "languages": list(a.languages),
             "hourly_cost": a.hourly_cost, "status": "offline"} for a in org.agents]


def rule_bodies(org: Org) -> list[dict[str, Any]]:
    """Ordered routing rules: infrastructure straight to tier 2, languages, then categories."""
    guard = ([{"field": "category", "op": "starts_with", "value": org.ns("")}]
             if org.namespace else [])
    rules: list[dict[str, Any]] = [{
        "id": org.ns("sim-infra-to-network"), "name": "Infrastructure faults to network ops",
        "conditions": [{"field": "category", "op": "starts_with", "value": org.ns("infra")}],
        "team": org.ns("network"), "skills": ["network"],
    }, {
        "id": org.ns("sim-dach-desk"), "name": "German and French speakers to the DACH desk",
        "conditions": [*guard, {"field": "language", "op": "in", "value": ["de", "fr"]}],
        "team": org.ns("service-desk-dach"),
    }]
    for top in ("access", "apps", "network", "hardware", "workplace"):
        rules.append({
            "id": org.ns(f"sim-desk-{top}"), "name": f"{top} to the service desk",
            "conditions": [{"field": "category", "op": "starts_with", "value": org.ns(top)}],
            "team": org.ns("service-desk"), "skills": [top], "strategy": "skills_match",
        })
    return [{**rule, "position": i} for i, rule in enumerate(rules)]


def calendar_body(org: Org) -> dict[str, Any]:
    """Office hours in Berlin, Monday to Friday 08:00-18:00, German (Berlin) public holidays."""
    return {"id": org.ns("berlin-office"), "name": "Berlin office hours",
            "time_zone": "Europe/Berlin", "weekly_hours": DAY_HOURS, "holidays": [],
            "country": "DE", "subdivision": "BE"}


def sla_policy_bodies(org: Org) -> list[dict[str, Any]]:
    """One policy per priority; P1 runs around the clock and escalates on breach."""
    categories = [c.name for c in org.categories] if org.namespace else []
    bodies = []
    for order, (priority, (first, nxt, resolution)) in enumerate(SLA_TARGETS.items()):
        bodies.append({
            "id": org.ns(f"sim-{priority.lower()}"), "name": f"{priority} standard",
            "order": order, "conditions": {"priorities": [priority], "categories": categories},
            "targets": {"first_response": first, "next_response": nxt, "resolution": resolution},
            "calendar_id": "24x7" if priority == "P1" else org.ns("berlin-office"),
            "warn_at_percent": 75, "escalate_on_breach": priority in ("P1", "P2"),
        })
    return bodies


def survey_policy_bodies(org: Org) -> list[dict[str, Any]]:
    """CSAT + NPS on every resolution; live channels also get CES (effort)."""
    categories = [c.name for c in org.categories] if org.namespace else []
    return [{
        "name": org.ns("sim-live-channels"), "position": 0, "trigger": "resolved",
        "questions": [{"kind": "csat"}, {"kind": "nps"}, {"kind": "ces"}],
        "conditions": {"channels": ["phone", "chat", "walk_in"], "categories": categories},
    }, {
        "name": org.ns("sim-default"), "position": 1, "trigger": "resolved",
        "questions": [{"kind": "csat"}, {"kind": "nps"}],
        "conditions": {"categories": categories},
    }]


async def seed(client: httpx.AsyncClient, urls: Urls, org: Org) -> SeedReport:
    """Create the organisation where it is missing; returns what was created and reused."""
    report = SeedReport()
    for body in team_bodies(org):
        await _ensure(client, f"{urls.routing}/v1/teams/{body['id']}", body,
                      f"team {body['id']}", report)
    for body in agent_bodies(org):
        await _ensure(client, f"{urls.routing}/v1/agents/{body['id']}", body,
                      f"agent {body['id']}", report)
    for body in rule_bodies(org):
        await _ensure(client, f"{urls.routing}/v1/rules/{body['id']}", body,
                      f"rule {body['id']}", report)
    calendar = calendar_body(org)
    await _ensure(client, f"{urls.sla}/v1/calendars/{calendar['id']}", calendar,
                  f"calendar {calendar['id']}", report)
    for body in sla_policy_bodies(org):
        await _ensure(client, f"{urls.sla}/v1/policies/{body['id']}", body,
                      f"sla policy {body['id']}", report)
    existing = {p["name"] for p in _check(await client.get(f"{urls.surveys}/v1/survey-policies"),
                                          "survey policies")}
    for body in survey_policy_bodies(org):
        what = f"survey policy {body['name']}"
        if body["name"] in existing:
            report.reused.append(what)
            continue
        _check(await client.post(f"{urls.surveys}/v1/survey-policies", json=body), what)
        report.created.append(what)
    return report
