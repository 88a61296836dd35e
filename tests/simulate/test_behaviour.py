"""Survey answers follow how the ticket went; every request the plan makes is valid."""

from __future__ import annotations

import random
from typing import Any

from helpdesk.simulate import Kind, Options, build_plan
from helpdesk.simulate.behaviour import survey_scores
from helpdesk.simulate.curve import HOUR
from helpdesk.simulate.seeding import (
    agent_bodies,
    calendar_body,
    rule_bodies,
    sla_policy_bodies,
    survey_policy_bodies,
    team_bodies,
)
from helpdesk_intake.schemas import TicketCreate
from helpdesk_routing.domain.conditions import condition_errors
from helpdesk_routing.schemas import AgentIn, RuleIn, TeamIn
from helpdesk_sla.schemas import CalendarIn
from helpdesk_sla.schemas import PolicyIn as SlaPolicyIn
from helpdesk_surveys.schemas import PolicyIn as SurveyPolicyIn


def scores(seed: int = 5, **how: Any) -> dict[str, Any]:
    ticket: dict[str, Any] = {"hours": 1.0, "priority": "P3", "reopened": False, "transfers": 0,
                              "escalations": 0, "waits": 0, "channel": "phone"}
    ticket.update(how)
    return survey_scores(random.Random(seed), **ticket)


def test_a_fast_first_time_fix_scores_higher_than_a_slow_reopened_ticket() -> None:
    for seed in range(20):
        good, bad = scores(seed), scores(seed, hours=60.0, reopened=True)
        assert good["csat"] >= bad["csat"] and good["nps"] >= bad["nps"]
    assert sum(scores(s)["csat"] for s in range(50)) > sum(
        scores(s, hours=60.0, reopened=True)["csat"] for s in range(50)) + 50


def test_transfers_raise_the_effort_score() -> None:
    for seed in range(20):
        assert scores(seed, transfers=2)["ces"] >= scores(seed)["ces"]
    assert sum(scores(s, transfers=2)["ces"] for s in range(50)) > sum(
        scores(s)["ces"] for s in range(50)) + 50


def test_scores_stay_on_their_scales() -> None:
    for seed in range(200):
        s = scores(seed, hours=seed / 2, transfers=seed % 4, reopened=seed % 3 == 0)
        assert 1 <= s["csat"] <= 5 and 0 <= s["nps"] <= 10 and 1 <= s["ces"] <= 7


def test_every_planned_ticket_is_a_valid_create_request() -> None:
    plan = build_plan(Options(seed=11, duration=10 * HOUR, rate=40, namespace="v"))
    for action in plan.tickets:
        TicketCreate.model_validate(action.data["body"])


def test_the_seeded_organisation_passes_the_services_validation() -> None:
    for namespace in ("", "ns"):
        org = build_plan(Options(duration=HOUR, namespace=namespace)).org
        for body in team_bodies(org):
            TeamIn.model_validate(body)
        for body in agent_bodies(org):
            AgentIn.model_validate(body)
        for body in rule_bodies(org):
            rule = RuleIn.model_validate(body)
            assert not [e for c in rule.conditions for e in condition_errors(c.field, c.op, c.value)]
        CalendarIn.model_validate(calendar_body(org))
        for body in sla_policy_bodies(org):
            SlaPolicyIn.model_validate(body)
        for body in survey_policy_bodies(org):
            SurveyPolicyIn.model_validate(body)


def test_every_agent_and_team_a_plan_names_is_seeded() -> None:
    plan = build_plan(Options(seed=4, duration=8 * HOUR, namespace="x"))
    teams = {b["id"] for b in team_bodies(plan.org)}
    agents = {b["id"] for b in agent_bodies(plan.org)}
    for action in plan.actions:
        if action.kind in (Kind.TRANSFER, Kind.ESCALATE):
            assert action.data["team"] in teams and action.data["to_agent"] in agents
