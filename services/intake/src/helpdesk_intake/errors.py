"""Domain errors: why a command was refused (the HTTP layer maps each to a status code)."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from helpdesk_events.tickets import Status


class NeedsTransaction(Exception):
    """Work started as one autocommitted statement must run again inside a transaction."""


class DomainError(Exception):
    """A command the ticket's rules refuse."""


class TicketNotFound(DomainError):
    """No ticket with this id (404)."""

    def __init__(self, ticket_id: UUID) -> None:
        self.ticket_id = ticket_id
        super().__init__(f"ticket {ticket_id} not found")


class TicketAlreadyClosed(DomainError):
    """The ticket is closed for good (409); further work needs a follow-up ticket."""

    def __init__(self, ticket_id: UUID) -> None:
        self.ticket_id = ticket_id
        super().__init__(
            f"ticket {ticket_id} is closed and cannot change; create a follow-up ticket "
            f"with follow_up_of={ticket_id}"
        )


class IllegalTransition(DomainError):
    """The status machine has no such move (409, listing the allowed moves)."""

    def __init__(self, current: Status, requested: Status, allowed: list[Status]) -> None:
        self.current = current
        self.requested = requested
        self.allowed = allowed
        moves = ", ".join(allowed) or "none"
        super().__init__(f"cannot move from {current} to {requested}; allowed: {moves}")


class ReopenWindowExpired(DomainError):
    """Reopening came too late after the resolution (409); create a follow-up instead."""

    def __init__(self, ticket_id: UUID, resolved_at: datetime, window: timedelta) -> None:
        self.ticket_id = ticket_id
        self.resolved_at = resolved_at
        self.window = window
        self.deadline = resolved_at + window
        super().__init__(
            f"ticket {ticket_id} could be reopened until {self.deadline.isoformat()}; "
            f"create a follow-up ticket with follow_up_of={ticket_id}"
        )


class InvalidCommand(DomainError):
    """A command field is invalid for this ticket (422, naming the field)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class NotAllowedInStatus(InvalidCommand):
    """The ticket's current status forbids the command (a 409 rather than a 422)."""

    def __init__(self, status: Status, action: str) -> None:
        self.status = status
        self.action = action
        hint = "; reopen it first" if status is Status.RESOLVED else ""
        super().__init__("status", f"a {status} ticket cannot be {action}{hint}")
