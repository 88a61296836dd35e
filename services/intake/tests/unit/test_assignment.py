"""Assignment, transfer and escalation."""

from __future__ import annotations

from uuid import uuid4

import pytest

from helpdesk_events.tickets import (
    EscalationTrigger,
    Status,
    StatusChanged,
    TicketAssigned,
    TicketEscalated,
    TicketTransferred,
    Tier,
)
from helpdesk_intake.domain import EscalateTicket, InvalidCommand, NotAllowedInStatus


def escalate(desk, to_tier, **kw):
    kw.setdefault("reason", "needs network engineering")
    kw.setdefault("by", desk.agent)
    return desk.run(EscalateTicket(ticket_id=desk.ticket_id, to_tier=to_tier, **kw))


def names(events):
    return [type(e).__name__ for e in events]


def test_first_assignment_is_an_assignment_at_tier_1(desk):
    desk.create()
    (assigned, opened) = desk.assign(team="service-desk", agent="agent-1")
    assert isinstance(assigned, TicketAssigned)
    assert (assigned.tier, assigned.team, assigned.agent) == (Tier.T1, "service-desk", "agent-1")
    assert isinstance(opened, StatusChanged) and opened.to_status is Status.OPEN
    state = desk.state
    assert (state.tier, state.team, state.agent) == (Tier.T1, "service-desk", "agent-1")
    assert state.first_assigned_at == desk.now
    assert state.transfer_count == 0


def test_assigning_only_a_team_keeps_the_ticket_new(desk):
    desk.create()
    assert names(desk.assign(agent=None)) == ["TicketAssigned"]
    assert desk.state.status is Status.NEW


def test_an_agent_picking_from_the_team_queue_is_not_a_transfer(desk):
    desk.create()
    desk.assign(agent=None)
    assert names(desk.assign(agent="agent-7")) == ["TicketAssigned", "StatusChanged"]
    assert desk.state.transfer_count == 0
    assert desk.state.agent == "agent-7"


def test_changing_team_after_the_first_assignment_is_a_transfer(desk):
    desk.create()
    desk.assign(team="service-desk", agent="agent-1")
    first_assigned_at = desk.state.first_assigned_at
    (moved,) = desk.assign(team="network", agent=None, reason="wrong queue")
    assert isinstance(moved, TicketTransferred)
    assert (moved.from_team, moved.to_team) == ("service-desk", "network")
    assert (moved.from_agent, moved.to_agent) == ("agent-1", None)
    assert desk.state.transfer_count == 1
    assert desk.state.first_assigned_at == first_assigned_at


def test_changing_agent_is_a_transfer(desk):
    desk.create()
    desk.assign(agent="agent-1")
    (moved,) = desk.assign(agent="agent-2")
    assert isinstance(moved, TicketTransferred)
    assert (moved.from_agent, moved.to_agent) == ("agent-1", "agent-2")
    assert desk.state.transfer_count == 1


def test_repeating_the_same_assignment_changes_nothing(desk):
    desk.create()
    desk.assign()
    assert desk.assign() == []


def test_an_assignment_cannot_raise_the_tier(desk):
    desk.create()
    desk.assign(tier=Tier.T1)
    with pytest.raises(InvalidCommand) as refused:
        desk.assign(team="network", tier=Tier.T2)
    assert refused.value.field == "tier"


def test_a_first_assignment_may_start_at_any_tier(desk):
    desk.create()
    desk.assign(team="network", tier=Tier.T2)
    assert desk.state.tier is Tier.T2
    assert desk.state.escalation_count == 0


def test_lowering_the_tier_is_a_transfer_not_an_escalation(desk):
    desk.create()
    desk.assign(team="network", agent="net-1", tier=Tier.T2)
    (moved,) = desk.assign(team="service-desk", agent="agent-1", tier=Tier.T1)
    assert isinstance(moved, TicketTransferred)
    assert (moved.from_tier, moved.to_tier) == (Tier.T2, Tier.T1)


def test_escalation_raises_the_tier_and_hands_over_the_team(desk):
    desk.create()
    desk.assign(team="service-desk", agent="agent-1")
    (escalated,) = escalate(desk, Tier.T2, to_team="network", trigger=EscalationTrigger.SLA_BREACH)
    assert isinstance(escalated, TicketEscalated)
    assert (escalated.from_tier, escalated.to_tier) == (Tier.T1, Tier.T2)
    assert (escalated.from_team, escalated.to_team) == ("service-desk", "network")
    assert (escalated.from_agent, escalated.to_agent) == ("agent-1", None)
    assert escalated.trigger is EscalationTrigger.SLA_BREACH
    state = desk.state
    assert (state.tier, state.team, state.agent) == (Tier.T2, "network", None)
    assert state.escalation_count == 1 and state.transfer_count == 0


def test_escalation_without_a_team_keeps_team_and_agent(desk):
    desk.create()
    desk.assign(team="service-desk", agent="agent-1")
    escalate(desk, Tier.T3)
    assert (desk.state.tier, desk.state.team, desk.state.agent) == (
        Tier.T3,
        "service-desk",
        "agent-1",
    )


@pytest.mark.parametrize("to_tier", [Tier.T1, Tier.T2])
def test_escalation_must_raise_the_tier(desk, to_tier):
    desk.create()
    desk.assign(tier=Tier.T2)
    with pytest.raises(InvalidCommand) as refused:
        escalate(desk, to_tier)
    assert refused.value.field == "to_tier"


def test_escalating_an_unassigned_ticket_also_makes_its_first_assignment(desk):
    desk.create()
    events = escalate(desk, Tier.T2, to_team="network", to_agent="net-1")
    assert names(events) == ["TicketEscalated", "TicketAssigned", "StatusChanged"]
    assert desk.state.tier is Tier.T2 and desk.state.team == "network"
    assert desk.state.first_assigned_at == desk.now
    assert desk.state.status is Status.OPEN


def test_an_agent_without_a_team_cannot_take_an_unassigned_escalation(desk):
    desk.create()
    with pytest.raises(InvalidCommand):
        escalate(desk, Tier.T2, to_agent="net-1")


def test_a_resolved_ticket_is_neither_assigned_nor_escalated(desk):
    desk.bring_to(Status.RESOLVED)
    with pytest.raises(NotAllowedInStatus) as refused:
        desk.assign()
    assert refused.value.status is Status.RESOLVED and refused.value.field == "status"
    assert "reopen" in str(refused.value)
    with pytest.raises(NotAllowedInStatus):
        escalate(desk, Tier.T2)


def test_the_routing_decision_id_is_kept(desk):
    decision = uuid4()
    desk.create()
    (assigned,) = desk.assign(agent=None, routing_decision_id=decision)
    assert assigned.routing_decision_id == decision


def test_a_blank_team_is_refused(desk):
    desk.create()
    with pytest.raises(InvalidCommand) as refused:
        desk.assign(team="  ")
    assert refused.value.field == "team"
