"""Ticket events for SLA tests, with readable defaults."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from helpdesk_events.tickets import (
    Actor,
    Channel,
    CommentAdded,
    Priority,
    PriorityChanged,
    Requester,
    Status,
    StatusChanged,
    TicketClosed,
    TicketCreated,
    TicketReopened,
    TicketResolved,
    TicketType,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
AGENT = Actor(id="a-1", role="agent")
REQUESTER = Actor(id="u-1", role="requester")


def at(seconds: float) -> datetime:
    """T0 plus `seconds`."""
    return T0 + timedelta(seconds=seconds)


class Ticket:
    """Builds one ticket's events, each `seconds` after T0."""

    def __init__(
        self,
        *,
        priority: str = "P3",
        category: str | None = None,
        ticket_id: uuid.UUID | None = None,
    ) -> None:
        self.id = ticket_id or uuid.uuid4()
        self.priority = priority
        self.category = category

    def created(self, seconds: float = 0, **kw: object) -> TicketCreated:
        return TicketCreated(
            ticket_id=self.id,
            occurred_at=at(seconds),
            number="HD-1",
            subject="VPN down",
            requester=Requester(id="u-1", org=kw.pop("org", None)),
            channel=Channel(kw.pop("channel", "email")),
            type=TicketType(kw.pop("type", "incident")),
            category=self.category,
            priority=Priority(self.priority),
            by=REQUESTER,
        )

    def reply(self, seconds: float, *, public: bool = True, by: Actor = AGENT) -> CommentAdded:
        return CommentAdded(
            ticket_id=self.id,
            occurred_at=at(seconds),
            comment_id=uuid.uuid4(),
            author=by,
            public=public,
            body="hello",
        )

    def status(self, seconds: float, before: str, after: str) -> StatusChanged:
        return StatusChanged(
            ticket_id=self.id,
            occurred_at=at(seconds),
            from_status=Status(before),
            to_status=Status(after),
            by=AGENT,
        )

    def resolved(self, seconds: float) -> TicketResolved:
        return TicketResolved(
            ticket_id=self.id, occurred_at=at(seconds), resolution_code="fixed", by=AGENT
        )

    def reopened(self, seconds: float) -> TicketReopened:
        return TicketReopened(
            ticket_id=self.id, occurred_at=at(seconds), reason="still broken", by=REQUESTER
        )

    def closed(self, seconds: float) -> TicketClosed:
        return TicketClosed(ticket_id=self.id, occurred_at=at(seconds), by=AGENT, reason="manual")

    def priority_changed(self, seconds: float, to: str) -> PriorityChanged:
        event = PriorityChanged(
            ticket_id=self.id,
            occurred_at=at(seconds),
            from_priority=Priority(self.priority),
            to_priority=Priority(to),
            by=AGENT,
        )
        self.priority = to
        return event
