"""The routing domain's values: teams, agents, rules, tickets as routing sees them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from helpdesk_events.routing import AgentStatus, Strategy

#: Where a ticket stands for routing: waiting for a first decision, in a team queue, with an
#: agent, or done (resolved / closed: it no longer counts against anyone's capacity).
TicketState = str
UNROUTED: TicketState = "unrouted"
QUEUED: TicketState = "queued"
ASSIGNED: TicketState = "assigned"
DONE: TicketState = "done"


@dataclass(frozen=True)
class WorkingSpan:
    """One span of an agent's weekly hours (UTC): weekday 0 = Monday, minutes since midnight."""

    weekday: int
    start_minute: int
    end_minute: int


@dataclass(frozen=True)
class Team:
    """A group of agents at one tier."""

    id: str
    name: str
    tier: int
    categories: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    strategy: Strategy = Strategy.ROUND_ROBIN


@dataclass(frozen=True)
class Agent:
    """A person who takes tickets; `capacity` is the maximum number of open tickets."""

    id: str
    name: str
    teams: tuple[str, ...]
    tier: int
    capacity: int
    skills: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    hourly_cost: float | None = None
    status: AgentStatus = AgentStatus.OFFLINE
    schedule: tuple[WorkingSpan, ...] = ()


@dataclass(frozen=True)
class Condition:
    """`field op value`, e.g. `channel in [email, phone]` or `subject has_any_word [vpn]`."""

    field: str
    op: str
    value: str | tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    """Ordered routing rule: all conditions must hold; the first matching rule wins."""

    id: str
    position: int
    team: str
    conditions: tuple[Condition, ...] = ()
    tier: int | None = None
    strategy: Strategy | None = None
    priority: str | None = None
    skills: tuple[str, ...] = ()
    enabled: bool = True


@dataclass(frozen=True)
class TicketFacts:
    """The attributes of a ticket that rules and strategies look at."""

    ticket_id: uuid.UUID
    subject: str
    channel: str
    type: str
    priority: str
    category: str | None = None
    language: str | None = None
    affected_service: str | None = None
    requester_org: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class TicketView:
    """Routing's own view of a ticket: where it is and what was asked for."""

    facts: TicketFacts
    state: TicketState = UNROUTED
    tier: int | None = None
    team: str | None = None
    agent: str | None = None
    strategy: Strategy | None = None
    rule: str | None = None
    skills: tuple[str, ...] = ()
    queued_at: datetime | None = None


@dataclass(frozen=True)
class Workload:
    """Open tickets per agent and the round-robin cursor (last agent served) per team."""

    open_by_agent: dict[str, int] = field(default_factory=dict)
    cursors: dict[str, str] = field(default_factory=dict)

    def load(self, agent_id: str) -> int:
        """Open tickets the agent holds."""
        return self.open_by_agent.get(agent_id, 0)
