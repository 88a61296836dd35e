"""Events on `helpdesk.routing`, published by the routing service.

Routing decides; intake applies the decision to the ticket stream (it stays the single
writer of ticket state). Subject and key: the ticket id, except agent events (the agent id).
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from helpdesk_events import topics
from helpdesk_events.envelope import Event

Tier = Annotated[
    int, Field(ge=1, le=3, description="Support tier, 1 (service desk) to 3 (experts).")
]
#: What asked for an escalation (the same values as the ticket events' trigger).
EscalationTrigger = Literal["manual", "sla_breach", "rule"]


class Strategy(StrEnum):
    """How the agent was chosen."""

    ROUND_ROBIN = "round_robin"
    LEAST_LOADED = "least_loaded"
    SKILLS_MATCH = "skills_match"
    MANUAL = "manual"


class AgentStatus(StrEnum):
    """An agent's availability for new work."""

    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class RoutingDecided(Event):
    """Routing chose a tier, a team and (unless the ticket waits in the team queue) an agent."""

    TYPE: ClassVar[str] = "helpdesk.routing.decided.v1"
    TOPIC: ClassVar[str] = topics.ROUTING
    SUBJECT: ClassVar[str] = "ticket_id"

    ticket_id: uuid.UUID = Field(description="The routed ticket (also the subject and key).")
    tier: Tier
    team: str = Field(min_length=1, description="Id of the team that owns the ticket.")
    agent: str | None = Field(
        default=None, description="Id of the assigned agent; null when the ticket is queued."
    )
    rule: str | None = Field(
        default=None, description="Id of the routing rule that matched; null for the default route."
    )
    strategy: Strategy = Field(description="How the agent was chosen.")
    reason: str = Field(description="Human-readable explanation of the decision.")
    queued: bool = Field(
        default=False,
        description="True when no agent had capacity: the ticket waits in the team queue.",
    )

    @model_validator(mode="after")
    def _queued_means_no_agent(self) -> RoutingDecided:
        if self.queued and self.agent is not None:
            raise ValueError("a queued decision has no agent")
        return self


class EscalationDecided(Event):
    """Routing decided to move a ticket to another tier (and possibly another team)."""

    TYPE: ClassVar[str] = "helpdesk.routing.escalation_decided.v1"
    TOPIC: ClassVar[str] = topics.ROUTING
    SUBJECT: ClassVar[str] = "ticket_id"

    ticket_id: uuid.UUID = Field(description="The escalated ticket (also the subject and key).")
    from_tier: Tier
    to_tier: Tier
    reason: str = Field(description="Human-readable explanation of the escalation.")
    trigger: EscalationTrigger = Field(description="What asked for the escalation.")
    to_team: str | None = Field(
        default=None, description="Id of the team taking the ticket; null to let routing choose."
    )


class AgentStatusChanged(Event):
    """An agent's availability changed (subject and key: the agent id)."""

    TYPE: ClassVar[str] = "helpdesk.routing.agent_status_changed.v1"
    TOPIC: ClassVar[str] = topics.ROUTING
    SUBJECT: ClassVar[str] = "agent_id"

    agent_id: str = Field(min_length=1, description="The agent (also the subject and key).")
    status: AgentStatus = Field(description="The new status.")
    previous_status: AgentStatus | None = Field(
        default=None, description="The status before the change; null for an agent's first status."
    )
    teams: tuple[str, ...] = Field(
        default=(), description="Ids of the teams the agent works for (for per-team occupancy)."
    )
    hourly_cost: float | None = Field(
        default=None,
        ge=0,
        allow_inf_nan=False,
        description="Fully loaded cost of one hour of the agent's time (for cost per ticket).",
    )
