"""HTTP request and response bodies of the routing API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from helpdesk_events.routing import AgentStatus, Strategy
from helpdesk_events.tickets import Channel, Priority, TicketType

Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100,
                                      pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Word = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
TierNumber = Annotated[int, Field(ge=1, le=3)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TeamIn(_Body):
    """A team: its tier, what it handles and how it picks agents."""

    id: Id
    name: Name
    tier: TierNumber
    categories: list[Word] = Field(default_factory=list, description="Categories it handles.")
    skills: list[Word] = Field(default_factory=list)
    languages: list[Word] = Field(default_factory=list)
    strategy: Strategy = Field(Strategy.ROUND_ROBIN, description="Default strategy for its tickets.")


class TeamOut(TeamIn):
    """A team with the size of its queue."""

    queued: int = 0


class Span(_Body):
    """Working hours on one weekday (UTC), minutes since midnight."""

    weekday: int = Field(ge=0, le=6, description="0 = Monday.")
    start_minute: int = Field(ge=0, le=1440)
    end_minute: int = Field(ge=0, le=1440)

    @model_validator(mode="after")
    def _ordered(self) -> Span:
        if self.start_minute >= self.end_minute:
            raise ValueError("start_minute must be before end_minute")
        return self


class AgentIn(_Body):
    """An agent: teams, tier, skills, languages, capacity (maximum open tickets), cost, schedule."""

    id: Id
    name: Name
    teams: list[Id] = Field(min_length=1)
    tier: TierNumber
    capacity: int = Field(ge=0, le=1000, description="Maximum open tickets.")
    skills: list[Word] = Field(default_factory=list)
    languages: list[Word] = Field(default_factory=list)
    hourly_cost: float | None = Field(None, ge=0, allow_inf_nan=False)
    schedule: list[Span] = Field(default_factory=list, description="Weekly hours; empty: always.")
    status: AgentStatus = AgentStatus.OFFLINE


class AgentOut(AgentIn):
    """An agent with its current open tickets."""

    open_tickets: int = 0


class StatusIn(_Body):
    """A new availability."""

    status: AgentStatus


class ConditionIn(_Body):
    """`field op value`; validated against the vocabulary by the route (to name the bad part)."""

    field: str
    op: str
    value: Any


class RuleIn(_Body):
    """An ordered routing rule: conditions (all must hold) and actions."""

    id: Id | None = None
    name: Name | None = None
    # Stored as a 32-bit integer; far more rules than anyone keeps.
    position: int | None = Field(None, ge=0, le=100_000,
                                 description="Place in the order; default: last.")
    conditions: list[ConditionIn] = Field(default_factory=list, max_length=50)
    team: Id
    tier: TierNumber | None = Field(None, description="Default: the team's tier.")
    strategy: Strategy | None = Field(None, description="Default: the team's strategy.")
    priority: Priority | None = Field(None, description="Priority the rule suggests (informational).")
    skills: list[Word] = Field(default_factory=list, description="Skills the strategy looks for.")
    enabled: bool = True


class RuleOut(_Body):
    """A stored rule."""

    id: str
    name: str | None
    position: int
    conditions: list[ConditionIn]
    team: str
    tier: int | None
    strategy: Strategy | None
    priority: Priority | None
    skills: list[str]
    enabled: bool


class RequesterIn(_Body):
    """The requester, as far as routing cares."""

    id: str | None = None
    org: str | None = None


class PreviewIn(_Body):
    """A ticket to route in a dry run."""

    subject: Name
    channel: Channel
    type: TicketType
    priority: Priority = Priority.P3
    category: str | None = None
    language: str | None = None
    affected_service: str | None = None
    requester: RequesterIn | None = None
    tags: list[str] = Field(default_factory=list)


class PreviewOut(BaseModel):
    """What routing would decide."""

    rule: str | None
    team: str | None
    tier: int | None
    agent: str | None
    strategy: Strategy | None
    queued: bool
    reason: str


class TransferIn(_Body):
    """Move a ticket to another team (and optionally a named agent of it)."""

    to_team: Id
    to_agent: Id | None = None
    reason: Name


class DecisionOut(BaseModel):
    """One published decision."""

    id: uuid.UUID
    type: str
    decided_at: datetime
    data: dict[str, Any]


class TicketRoutingOut(BaseModel):
    """Routing's view of a ticket and every decision it made for it."""

    ticket_id: uuid.UUID
    state: str
    tier: int | None
    team: str | None
    agent: str | None
    queued_at: datetime | None
    decisions: list[DecisionOut]
