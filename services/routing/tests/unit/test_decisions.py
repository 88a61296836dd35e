"""Decide functions: routing, queue draining, escalation, transfer; and the ticket view."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from helpdesk_events.routing import AgentStatus, EscalationDecided, RoutingDecided, Strategy
from helpdesk_events.tickets import (
    SYSTEM_ACTOR,
    CommentAdded,
    StatusChanged,
    TicketEscalated,
    TicketReopened,
    TicketResolved,
    TicketTransferred,
)
from helpdesk_routing.domain.decide import (
    RoutingState,
    TransferRefused,
    decide_after_manual_escalation,
    decide_drain,
    decide_escalation,
    decide_route,
    decide_transfer,
    evolve,
    evolve_workload,
)
from helpdesk_routing.domain.model import (
    ASSIGNED,
    DONE,
    QUEUED,
    Agent,
    Condition,
    Rule,
    Team,
    TicketFacts,
    TicketView,
    Workload,
)
from helpdesk_routing.domain.observe import may_change, observe

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)
TEAMS = {
    "desk": Team(id="desk", name="Service desk", tier=1),
    "net2": Team(id="net2", name="Network L2", tier=2, categories=("network",), strategy=Strategy.LEAST_LOADED),
    "apps2": Team(id="apps2", name="Apps L2", tier=2, categories=("apps",)),
    "experts": Team(id="experts", name="Experts", tier=3),
}


def agent(id: str, team: str, capacity: int = 2, online: bool = True) -> Agent:
    return Agent(id=id, name=id, teams=(team,), tier=TEAMS[team].tier, capacity=capacity,
                 status=AgentStatus.ONLINE if online else AgentStatus.OFFLINE)


def state(*agents: Agent, rules: tuple[Rule, ...] = (), load: dict[str, int] | None = None) -> RoutingState:
    return RoutingState(teams=TEAMS, agents={a.id: a for a in agents}, rules=rules,
                        workload=Workload(open_by_agent=load or {}))


def view(**kw: object) -> TicketView:
    facts = TicketFacts(ticket_id=uuid.uuid4(), subject="VPN down", channel="email", type="incident",
                        priority="P2", category=kw.pop("category", "network/vpn"))  # type: ignore[arg-type]
    return TicketView(facts=facts, **kw)  # type: ignore[arg-type]


def test_unmatched_ticket_takes_the_default_route_to_a_tier_one_team() -> None:
    [decision] = decide_route(state(agent("ann", "desk")), view(), NOW)
    assert isinstance(decision, RoutingDecided)
    assert (decision.team, decision.tier, decision.agent, decision.rule) == ("desk", 1, "ann", None)
    assert decision.strategy == Strategy.ROUND_ROBIN


def test_matching_rule_sets_team_tier_and_strategy() -> None:
    rule = Rule(id="vpn", position=0, team="net2", strategy=Strategy.SKILLS_MATCH,
                conditions=(Condition("category", "starts_with", "network"),))
    [decision] = decide_route(state(agent("bo", "net2"), rules=(rule,)), view(), NOW)
    assert (decision.team, decision.tier, decision.rule, decision.strategy) == ("net2", 2, "vpn", Strategy.SKILLS_MATCH)
    assert decision.agent == "bo" and "rule vpn matched" in decision.reason


def test_ticket_nobody_can_take_is_queued() -> None:
    [decision] = decide_route(state(agent("ann", "desk", online=False)), view(), NOW)
    assert decision.queued and decision.agent is None and decision.team == "desk"


def test_no_team_at_all_means_no_decision() -> None:
    empty = RoutingState(teams={}, agents={}, rules=(), workload=Workload())
    assert decide_route(empty, view(), NOW) == []


def test_queue_drains_oldest_first_until_capacity_runs_out() -> None:
    queue = [view(state=QUEUED, team="desk", tier=1, queued_at=NOW + timedelta(seconds=s)) for s in (3, 1, 2)]
    decisions = decide_drain(state(agent("ann", "desk", capacity=2)), "desk", queue, NOW)
    oldest_two = [t.facts.ticket_id for t in sorted(queue, key=lambda t: t.queued_at)][:2]  # type: ignore[arg-type, return-value]
    assert [d.ticket_id for d in decisions] == oldest_two
    assert all(d.agent == "ann" and not d.queued for d in decisions)


def test_drain_spreads_round_robin_across_agents() -> None:
    queue = [view(state=QUEUED, team="desk", tier=1, queued_at=NOW + timedelta(seconds=s)) for s in range(4)]
    decisions = decide_drain(state(agent("a", "desk"), agent("b", "desk")), "desk", queue, NOW)
    assert [d.agent for d in decisions] == ["a", "b", "a", "b"]


def test_breach_escalates_to_the_matching_team_of_the_next_tier() -> None:
    ticket = view(state=ASSIGNED, team="desk", tier=1, agent="ann")
    escalation, decision = decide_escalation(
        state(agent("ann", "desk"), agent("bo", "net2"), agent("cy", "apps2"), load={"ann": 1}),
        ticket, trigger="sla_breach", reason="late", now=NOW,
    )
    assert isinstance(escalation, EscalationDecided)
    assert (escalation.from_tier, escalation.to_tier, escalation.to_team) == (1, 2, "net2")
    assert isinstance(decision, RoutingDecided) and (decision.team, decision.agent, decision.tier) == ("net2", "bo", 2)


def test_top_tier_and_closed_tickets_are_not_escalated() -> None:
    s = state(agent("x", "experts"))
    assert decide_escalation(s, view(state=ASSIGNED, team="experts", tier=3), trigger="sla_breach", reason="r", now=NOW) == []
    assert decide_escalation(s, view(state=DONE, team="desk", tier=1), trigger="sla_breach", reason="r", now=NOW) == []


def test_manual_escalation_without_a_team_of_the_new_tier_moves_the_ticket() -> None:
    escalated = view(state=ASSIGNED, team="desk", tier=2, agent="ann")
    [decision] = decide_after_manual_escalation(state(agent("bo", "net2")), escalated, NOW)
    assert (decision.team, decision.tier, decision.agent) == ("net2", 2, "bo")


def test_manual_escalation_to_a_team_queue_picks_an_agent_and_leaves_assigned_alone() -> None:
    queued = view(state=QUEUED, team="net2", tier=2)
    [decision] = decide_after_manual_escalation(state(agent("bo", "net2")), queued, NOW)
    assert decision.agent == "bo"
    assigned = view(state=ASSIGNED, team="net2", tier=2, agent="bo")
    assert decide_after_manual_escalation(state(agent("bo", "net2")), assigned, NOW) == []


def test_transfer_to_a_named_agent_is_manual_and_to_a_higher_tier_escalates() -> None:
    ticket = view(state=ASSIGNED, team="desk", tier=1, agent="ann")
    s = state(agent("ann", "desk"), agent("bo", "net2"))
    escalation, decision = decide_transfer(s, ticket, to_team="net2", to_agent="bo", reason="needs L2", now=NOW)
    assert isinstance(escalation, EscalationDecided) and escalation.trigger == "manual"
    assert decision.strategy == Strategy.MANUAL and decision.agent == "bo"  # type: ignore[union-attr]


def test_transfer_refuses_unknown_team_and_foreign_agent() -> None:
    ticket = view(state=ASSIGNED, team="desk", tier=1, agent="ann")
    s = state(agent("ann", "desk"), agent("bo", "net2"))
    with pytest.raises(TransferRefused) as unknown:
        decide_transfer(s, ticket, to_team="nope", to_agent=None, reason="r", now=NOW)
    assert unknown.value.field == "to_team"
    with pytest.raises(TransferRefused) as foreign:
        decide_transfer(s, ticket, to_team="desk", to_agent="bo", reason="r", now=NOW)
    assert foreign.value.field == "to_agent"


def test_workload_follows_assignments_and_releases() -> None:
    before = view(state=ASSIGNED, team="desk", tier=1, agent="ann")
    decision = RoutingDecided(ticket_id=before.facts.ticket_id, tier=1, team="desk", agent="bo",
                              strategy=Strategy.ROUND_ROBIN, reason="r")
    after = evolve(before, decision, NOW)
    load = evolve_workload(Workload(open_by_agent={"ann": 1}), before, after)
    assert load.open_by_agent == {"ann": 0, "bo": 1} and load.cursors == {"desk": "bo"}


def test_resolution_frees_capacity_and_reopening_takes_it_again() -> None:
    ticket = view(state=ASSIGNED, team="desk", tier=1, agent="ann")
    resolved = observe(ticket, TicketResolved(ticket_id=ticket.facts.ticket_id, occurred_at=NOW,
                                              resolution_code="fixed", by=SYSTEM_ACTOR), NOW)
    assert resolved.state == DONE
    reopened = observe(resolved, TicketReopened(ticket_id=ticket.facts.ticket_id, occurred_at=NOW,
                                                reason="again", by=SYSTEM_ACTOR), NOW)
    assert reopened.state == ASSIGNED and reopened.agent == "ann"


def test_echoes_of_routing_decisions_are_ignored_but_manual_moves_are_followed() -> None:
    ticket = view(state=ASSIGNED, team="desk", tier=1, agent="ann")
    common = dict(ticket_id=ticket.facts.ticket_id, occurred_at=NOW, by=SYSTEM_ACTOR, reason="r",
                  from_team="desk", to_team="net2", from_agent="ann", to_agent=None, from_tier=1, to_tier=1)
    echo = TicketTransferred(**common, routing_decision_id=uuid.uuid4())  # type: ignore[arg-type]
    assert observe(ticket, echo, NOW) == ticket
    moved = observe(ticket, TicketTransferred(**common), NOW)  # type: ignore[arg-type]
    assert (moved.team, moved.agent, moved.state, moved.queued_at) == ("net2", None, QUEUED, NOW)


def test_events_that_cannot_change_the_view_are_known_without_looking_at_it() -> None:
    ticket = view(state=ASSIGNED, team="desk", tier=1, agent="ann")
    common = dict(ticket_id=ticket.facts.ticket_id, occurred_at=NOW, by=SYSTEM_ACTOR, reason="r",
                  from_team="desk", to_team="net2", from_agent="ann", to_agent=None, from_tier=1, to_tier=1)
    idle = [
        TicketTransferred(**common, routing_decision_id=uuid.uuid4()),  # type: ignore[arg-type]
        CommentAdded(ticket_id=ticket.facts.ticket_id, occurred_at=NOW, comment_id=uuid.uuid4(),
                     author=SYSTEM_ACTOR, public=True, body="hi"),
        StatusChanged(ticket_id=ticket.facts.ticket_id, occurred_at=NOW, from_status="new",  # type: ignore[arg-type]
                      to_status="open", by=SYSTEM_ACTOR),
    ]
    for event in idle:
        assert not may_change(event)
        for state_ in (ticket, view(), view(state=DONE, team="desk", tier=1)):
            assert observe(state_, event, NOW) == state_
    assert may_change(TicketTransferred(**common))  # type: ignore[arg-type]
    assert may_change(TicketResolved(ticket_id=ticket.facts.ticket_id, occurred_at=NOW,
                                     resolution_code="fixed", by=SYSTEM_ACTOR))


def test_manual_escalation_event_keeps_the_team_when_none_is_named() -> None:
    ticket = view(state=ASSIGNED, team="desk", tier=1, agent="ann")
    escalated = observe(ticket, TicketEscalated(
        ticket_id=ticket.facts.ticket_id, occurred_at=NOW, from_tier=1, to_tier=2, reason="hard",  # type: ignore[arg-type]
        by=SYSTEM_ACTOR, trigger="manual",  # type: ignore[arg-type]
    ), NOW)
    assert (escalated.tier, escalated.team, escalated.agent) == (2, "desk", "ann")
