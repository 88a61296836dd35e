"""Routing's decisions become ticket events, once each, through the inbox transaction."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from uuid import UUID

import pytest

from helpdesk_events.envelope import Envelope, Event, new_envelope
from helpdesk_events.inbox import transactional_handler
from helpdesk_events.routing import AgentStatusChanged, EscalationDecided, RoutingDecided
from helpdesk_intake.consumers import make_handler

from .support import Intake

UNKNOWN = UUID("00000000-0000-4000-8000-000000000000")


def _decision(event: Event, subject: str) -> Envelope:
    return new_envelope(event, source="routing", subject=subject, time=datetime.now(timezone.utc),
                        correlationid="req-42")


def _routed(ticket_id: str, **fields: Any) -> Envelope:
    values: dict[str, Any] = dict(ticket_id=ticket_id, tier=1, team="network", agent="agent-7",
                                  strategy="least_loaded", reason="VPN skills")
    values.update(fields)
    return _decision(RoutingDecided(**values), ticket_id)


def _escalation(ticket_id: str, **fields: Any) -> Envelope:
    values: dict[str, Any] = dict(ticket_id=ticket_id, from_tier=1, to_tier=2,
                                  reason="resolution SLA breached", trigger="sla_breach")
    values.update(fields)
    return _decision(EscalationDecided(**values), ticket_id)


async def _deliver(intake: Intake, *envelopes: Envelope) -> None:
    """What the consumer runner does with each record: the inbox-wrapped handler."""
    handle = transactional_handler(intake.runtime.engine, "intake", make_handler())
    for envelope in envelopes:
        await handle(envelope)


async def test_a_routing_decision_assigns_the_ticket_once(intake: Intake) -> None:
    ticket = await intake.create()
    decision = _routed(ticket["id"])
    await _deliver(intake, decision, decision)  # a redelivery
    after = await intake.ticket(ticket["id"])
    assert (after["team"], after["agent"], after["tier"], after["status"]) == (
        "network", "agent-7", 1, "open")
    assigned, opened = (await intake.events(ticket["id"]))[1:]
    assert assigned["type"] == "helpdesk.ticket.assigned.v1"
    assert assigned["data"]["routing_decision_id"] == str(decision.id)
    assert assigned["data"]["by"] == {"id": "routing", "role": "integrator"}
    assert (assigned["causationid"], assigned["correlationid"]) == (str(decision.id), "req-42")
    assert opened["data"]["to_status"] == "open"


async def test_later_decisions_transfer_and_a_higher_tier_escalates(intake: Intake) -> None:
    ticket = await intake.create()
    await _deliver(intake, _routed(ticket["id"], agent=None, queued=True),
                   _routed(ticket["id"], team="network-2", agent="agent-9"),
                   _routed(ticket["id"], tier=2, team="network-l2", agent="expert-1"))
    types = [e["type"].split(".")[2] for e in await intake.events(ticket["id"])]
    assert types == ["created", "assigned", "transferred", "status_changed", "escalated"]
    after = await intake.ticket(ticket["id"])
    assert (after["tier"], after["team"], after["agent"]) == (2, "network-l2", "expert-1")


async def test_an_escalation_decision_escalates_and_a_repeat_is_moot(intake: Intake) -> None:
    ticket = await intake.create()
    await _deliver(intake, _routed(ticket["id"]), _escalation(ticket["id"], to_team="network-l2"),
                   _escalation(ticket["id"]))  # another decision, same tier: nothing to do
    escalated = (await intake.events(ticket["id"]))[-1]
    assert escalated["type"] == "helpdesk.ticket.escalated.v1"
    assert escalated["data"]["trigger"] == "sla_breach"
    assert escalated["data"]["to_team"] == "network-l2"
    assert (await intake.ticket(ticket["id"]))["escalation_count"] == 1


async def test_decisions_made_moot_by_the_ticket_are_skipped_not_raised(intake: Intake) -> None:
    resolved = await intake.create()
    await intake.command(resolved["id"], "resolve", {"resolution_code": "fixed"})
    closed = await intake.create()
    await intake.command(closed["id"], "resolve", {"resolution_code": "fixed"})
    await intake.command(closed["id"], "close")
    await _deliver(intake, _routed(resolved["id"]), _escalation(resolved["id"]),
                   _routed(closed["id"]), _routed(str(UNKNOWN)),
                   _decision(AgentStatusChanged(agent_id="agent-7", status="online"), "agent-7"))
    assert (await intake.ticket(resolved["id"]))["version"] == 3
    assert (await intake.ticket(closed["id"]))["version"] == 5


async def test_a_decision_the_rules_refuse_raises_for_the_dead_letter_topic(
    intake: Intake,
) -> None:
    ticket = await intake.create()
    broken = _routed(ticket["id"], team="t" * 101)  # longer than any team id may be
    with pytest.raises(Exception, match="team"):
        await _deliver(intake, broken)
    assert (await intake.ticket(ticket["id"]))["version"] == 1
    # The inbox row rolled back with it: a retry runs the handler again.
    with pytest.raises(Exception, match="team"):
        await _deliver(intake, broken)
