"""Events in: routing's decisions become ticket commands, applied inside the inbox transaction.

Order per ticket comes from Kafka (decisions are keyed by ticket id) and redeliveries are
dropped by the inbox. A decision the ticket's state has made moot (resolved or closed
meanwhile, already at that tier, unknown here) is logged and skipped: retrying cannot
change the answer, so it must not end in the dead-letter topic. A decision the rules
refuse for its content (InvalidCommand) is a bug upstream and raises.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timezone

from sqlalchemy.ext.asyncio import AsyncConnection

from helpdesk_events.envelope import Envelope
from helpdesk_events.routing import EscalationDecided, RoutingDecided
from helpdesk_events.tickets import Actor, ActorRole, EscalationTrigger, Tier
from helpdesk_runtime.runtime import EventHandler

from . import handlers
from .commands import AssignTicket, Command, EscalateTicket
from .domain import DEFAULT_POLICY, Policy
from .errors import (
    IllegalTransition,
    NotAllowedInStatus,
    ReopenWindowExpired,
    TicketAlreadyClosed,
    TicketNotFound,
)
from .state import TicketState

log = logging.getLogger(__name__)

#: The actor of ticket events that apply routing's decisions.
ROUTING_ACTOR = Actor(id="routing", role=ActorRole.INTEGRATOR)
#: Refusals that mean "the ticket moved on": skip, never retry.
MOOT = (NotAllowedInStatus, TicketAlreadyClosed, IllegalTransition, ReopenWindowExpired,
        TicketNotFound)


def make_handler(policy: Policy = DEFAULT_POLICY) -> EventHandler:
    """The handler of `helpdesk.routing` events (runs in the inbox transaction)."""

    async def handle(conn: AsyncConnection, envelope: Envelope) -> None:
        await apply_decision(conn, envelope, now=datetime.now(timezone.utc), policy=policy)

    return handle


async def apply_decision(
    conn: AsyncConnection, envelope: Envelope, *, now: datetime, policy: Policy = DEFAULT_POLICY
) -> handlers.Outcome | None:
    """Apply a routing decision to its ticket; None when the event is not a decision or is moot."""
    event = envelope.data
    if not isinstance(event, (RoutingDecided, EscalationDecided)):
        return None

    def plan(state: TicketState) -> Sequence[Command]:
        if isinstance(event, RoutingDecided):
            return [_routed(state, event, envelope)]
        return _escalated(state, event, envelope)

    trace = handlers.Trace(correlation_id=envelope.correlationid or str(envelope.id),
                           causation_id=str(envelope.id))
    try:
        return await handlers.execute(conn, event.ticket_id, plan, now=now, policy=policy,
                                      trace=trace)
    except MOOT as moot:
        log.warning("skipping %s %s for ticket %s: %s", envelope.type, envelope.id,
                    event.ticket_id, moot)
        return None


def _routed(state: TicketState, event: RoutingDecided, envelope: Envelope) -> Command:
    tier = Tier(event.tier)
    if state.tier is not None and tier > state.tier:
        # Routing re-routed to a higher tier: for the ticket that is an escalation.
        return EscalateTicket(
            ticket_id=state.id, to_tier=tier, reason=event.reason, by=ROUTING_ACTOR,
            trigger=EscalationTrigger.RULE, to_team=event.team, to_agent=event.agent,
            routing_decision_id=envelope.id,
        )
    return AssignTicket(
        ticket_id=state.id, team=event.team, agent=event.agent, tier=tier, reason=event.reason,
        by=ROUTING_ACTOR, routing_decision_id=envelope.id,
    )


def _escalated(state: TicketState, event: EscalationDecided, envelope: Envelope) -> list[Command]:
    to_tier = Tier(event.to_tier)
    current = state.tier or Tier.T1
    if current >= to_tier:
        log.info("ticket %s is already at tier %s; escalation %s is moot", state.id, current,
                 envelope.id)
        return []
    return [EscalateTicket(
        ticket_id=state.id, to_tier=to_tier, reason=event.reason, by=ROUTING_ACTOR,
        trigger=EscalationTrigger(event.trigger), to_team=event.to_team,
        routing_decision_id=envelope.id,
    )]
