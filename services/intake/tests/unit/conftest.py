"""A ticket desk for the unit tests: drives one ticket through decide / evolve."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from helpdesk_events.tickets import (
    Actor,
    ActorRole,
    Channel,
    Requester,
    Status,
    TicketEvent,
    TicketType,
)
from helpdesk_intake.domain import (
    DEFAULT_POLICY,
    AddComment,
    AssignTicket,
    ChangeStatus,
    CloseTicket,
    Command,
    CreateTicket,
    Policy,
    ResolveTicket,
    TicketState,
    decide,
    evolve,
)

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


@dataclass
class Desk:
    """One ticket, its events and a clock; `run` decides and applies a command."""

    ticket_id: UUID = field(default_factory=uuid4)
    now: datetime = T0
    policy: Policy = DEFAULT_POLICY
    state: TicketState | None = None
    events: list[TicketEvent] = field(default_factory=list)
    agent: Actor = Actor(id="agent-1", role=ActorRole.AGENT)
    other_agent: Actor = Actor(id="agent-2", role=ActorRole.AGENT)
    supervisor: Actor = Actor(id="boss-1", role=ActorRole.SUPERVISOR)
    requester: Actor = Actor(id="req-1", role=ActorRole.REQUESTER)
    system: Actor = Actor(id="system", role=ActorRole.SYSTEM)

    def later(self, delta: timedelta) -> None:
        """Move the clock forward."""
        self.now += delta

    def decide(self, command: Command) -> list[TicketEvent]:
        """Decide without applying."""
        return decide(self.state, command, self.now, self.policy)

    def run(self, command: Command) -> list[TicketEvent]:
        """Decide and apply `command`; return its events."""
        events = self.decide(command)
        for event in events:
            self.state = evolve(self.state, event)
            self.events.append(event)
        return events

    def create(self, **overrides: Any) -> TicketState:
        """Log the desk's ticket (a portal incident unless overridden)."""
        values: dict[str, Any] = dict(
            ticket_id=self.ticket_id,
            number="HD-1042",
            subject="VPN drops every few minutes",
            description="Since this morning.",
            requester=Requester(id="req-1", email="ann@example.com", name="Ann", org="Sales"),
            channel=Channel.PORTAL,
            type=TicketType.INCIDENT,
            by=self.requester,
        )
        values.update(overrides)
        self.run(CreateTicket(**values))
        assert self.state is not None
        return self.state

    def comment(self, author: Actor, *, public: bool = True, body: str = "Hi") -> list:
        """Add a comment by `author`."""
        return self.run(
            AddComment(
                ticket_id=self.ticket_id,
                comment_id=uuid4(),
                author=author,
                body=body,
                public=public,
            )
        )

    def assign(self, team: str = "service-desk", agent: str | None = "agent-1", **kw: Any) -> list:
        """Assign (or transfer) the ticket."""
        kw.setdefault("reason", "round robin")
        kw.setdefault("by", self.supervisor)
        return self.run(AssignTicket(ticket_id=self.ticket_id, team=team, agent=agent, **kw))

    def resolve(self, code: str = "fixed") -> list:
        """Resolve the ticket as the agent."""
        return self.run(
            ResolveTicket(ticket_id=self.ticket_id, resolution_code=code, by=self.agent)
        )

    def move(self, to: Status) -> list:
        """ChangeStatus as the agent."""
        return self.run(ChangeStatus(ticket_id=self.ticket_id, to_status=to, by=self.agent))

    def bring_to(self, status: Status) -> TicketState:
        """Create the ticket and take the shortest legal path to `status`."""
        self.create()
        if status in (Status.OPEN, Status.PENDING, Status.ON_HOLD):
            self.move(status)
        elif status is Status.RESOLVED:
            self.resolve()
        elif status is Status.CLOSED:
            self.resolve()
            self.run(CloseTicket(ticket_id=self.ticket_id, by=self.requester))
        assert self.state is not None and self.state.status is status
        return self.state


@pytest.fixture
def desk() -> Desk:
    """A fresh desk with one (not yet created) ticket."""
    return Desk()
