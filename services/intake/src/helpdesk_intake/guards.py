"""Checks and small builders shared by the decision functions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from uuid import UUID

from pydantic import TypeAdapter, ValidationError

from helpdesk_events.tickets import Actor, Status, StatusChanged, TicketEvent

from helpdesk_intake.commands import Command, MergeTicket
from helpdesk_intake.errors import (
    InvalidCommand,
    NotAllowedInStatus,
    TicketAlreadyClosed,
    TicketNotFound,
)
from helpdesk_intake.rules import DEFAULT_AUTO_CLOSE_DELAY, WORKING
from helpdesk_intake.state import TicketState

Events = list[TicketEvent]


def auto_close_due(
    state: TicketState | None, now: datetime, delay: timedelta = DEFAULT_AUTO_CLOSE_DELAY
) -> bool:
    """True when a resolved ticket has waited `delay` since its resolution."""
    return (
        state is not None
        and state.status is Status.RESOLVED
        and state.resolved_at is not None
        and now >= state.resolved_at + delay
    )




def existing(state: TicketState | None, ticket_id: UUID, command: Command) -> TicketState:
    """The state a command on an existing ticket works on, or why there is none."""
    if state is None:
        raise TicketNotFound(ticket_id)
    merge_target = isinstance(command, MergeTicket) and state.id == command.target_ticket_id
    if state.id != ticket_id and not merge_target:
        raise InvalidCommand("ticket_id", f"command for {ticket_id} given ticket {state.id}")
    if state.status is Status.CLOSED:
        raise TicketAlreadyClosed(state.id)
    return state


def require_working(state: TicketState, action: str) -> None:
    """Refuse work on a resolved ticket (it must be reopened first)."""
    if state.status not in WORKING:
        raise NotAllowedInStatus(state.status, action)


@cache
def _adapter(annotation: Any) -> TypeAdapter[Any]:
    return TypeAdapter(annotation)


def check(field: str, annotation: Any, value: Any) -> Any:
    """Validate one command field against its contract type, naming the field on failure."""
    try:
        return _adapter(annotation).validate_python(value)
    except ValidationError as error:
        raise InvalidCommand(field, error.errors()[0]["msg"]) from error


def invalid_command(error: ValidationError) -> InvalidCommand:
    """Turn an event's validation error into InvalidCommand naming the field."""
    first = error.errors()[0]
    return InvalidCommand(".".join(str(part) for part in first["loc"]) or "command", first["msg"])


def status_change(
    state: TicketState, to: Status, by: Actor, now: datetime, reason: str | None = None
) -> StatusChanged:
    """The StatusChanged event moving `state` to `to`."""
    return StatusChanged(
        ticket_id=state.id,
        occurred_at=now,
        from_status=state.status,
        to_status=to,
        by=by,
        reason=reason,
    )


def opened_by_agent(
    state: TicketState, agent: str | None, by: Actor, now: datetime
) -> Events:
    """A `new` ticket that gets an agent is being worked: it moves to open."""
    if state.status is Status.NEW and agent is not None:
        return [status_change(state, Status.OPEN, by, now, "agent assigned")]
    return []


def same(a: Any, b: Any) -> bool:
    """Equality that tells True from 1 (custom field values); "email" equals Channel.EMAIL."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


def strip(value: Any) -> Any:
    """Strip a string, leave anything else alone."""
    return value.strip() if isinstance(value, str) else value
