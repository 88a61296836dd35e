"""Intake's pure ticket domain: `decide(state, command, now) -> events`, `evolve`, `fold`.

No I/O, no clock, no id generation: ids and numbers come in with the command, time as
`now`. A refused command raises a `DomainError`; an accepted one returns the events to
append (an empty list when it changes nothing, so a retried command is harmless).
The rules as data (status table, priority matrix, policy defaults) live in `rules.py`,
one decision function per command in `decisions.py`, the state and `evolve` in `state.py`.

Rules decided here:
- Status moves follow `rules.TRANSITIONS`; a move outside it raises `IllegalTransition`
  with the allowed moves. `ChangeStatus` covers the working statuses; resolving, closing
  and reopening need their own commands (code, reason, window), else `InvalidCommand`.
- Any command on a closed ticket raises `TicketAlreadyClosed` (follow-up ticket instead);
  assigning, escalating or reopening in the wrong status raises `NotAllowedInStatus`.
- Error mapping for HTTP: TicketNotFound 404; IllegalTransition, TicketAlreadyClosed,
  ReopenWindowExpired, NotAllowedInStatus 409; other InvalidCommand 422 (`field` names it).
- Priority: an explicit priority wins, else `rules.priority_for(impact, urgency)`.
- Assignment: the first one (no team yet), or an agent picked from the team queue by the
  same team and tier, is `TicketAssigned`; any later change of team or agent is
  `TicketTransferred` (so transfer_rate is exact); a tier raise is `TicketEscalated` and
  only `EscalateTicket` raises the tier. A `new` ticket that gets an agent moves to open.
- Comments: a public staff reply on a `new` ticket moves it to open; a requester reply on
  a `pending` ticket moves it back to open; requesters cannot write internal notes.
- Resolve from a working status only; reopen a resolved ticket within
  `Policy.reopen_window` after its latest resolution; close only a resolved ticket, and
  `auto_close` only as the system actor once `auto_close_due`. Logging work and comments
  stay possible on a resolved ticket (after-work, a thank-you), without status effect.
- Updates may correct a resolved ticket; `custom_fields` merge (None deletes a key),
  `tags` replace the set (trimmed, lower-cased, de-duplicated).
- Merge closes the source (TicketMerged, TicketClosed(merged), StatusChanged) and records
  the link on the target (TicketMerged); the source's history stays as it was.
- Events of one command precede their status effect: cause first, then StatusChanged.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import ValidationError

from helpdesk_intake.commands import (
    UNSET,
    AddComment,
    AssignTicket,
    Categorize,
    ChangePriority,
    ChangeStatus,
    CloseTicket,
    Command,
    CreateTicket,
    EscalateTicket,
    LogWork,
    MergeTicket,
    RecordChangeOutcome,
    ReopenTicket,
    ResolveTicket,
    Unset,
    UpdateTicket,
)
from helpdesk_intake.decisions import HANDLERS
from helpdesk_intake.errors import (
    DomainError,
    IllegalTransition,
    InvalidCommand,
    NotAllowedInStatus,
    ReopenWindowExpired,
    TicketAlreadyClosed,
    TicketNotFound,
)
from helpdesk_intake.guards import Events, auto_close_due, existing, invalid_command
from helpdesk_intake.rules import (
    DEFAULT_AUTO_CLOSE_DELAY,
    DEFAULT_REOPEN_WINDOW,
    TRANSITIONS,
    Policy,
    allowed_moves,
    is_legal_move,
    priority_for,
)
from helpdesk_intake.state import InvalidStream, TicketState, evolve, fold

__all__ = [
    "DEFAULT_AUTO_CLOSE_DELAY",
    "DEFAULT_POLICY",
    "DEFAULT_REOPEN_WINDOW",
    "TRANSITIONS",
    "UNSET",
    "AddComment",
    "AssignTicket",
    "Categorize",
    "ChangePriority",
    "ChangeStatus",
    "CloseTicket",
    "Command",
    "CreateTicket",
    "DomainError",
    "EscalateTicket",
    "Events",
    "IllegalTransition",
    "InvalidCommand",
    "InvalidStream",
    "LogWork",
    "MergeTicket",
    "NotAllowedInStatus",
    "Policy",
    "RecordChangeOutcome",
    "ReopenTicket",
    "ReopenWindowExpired",
    "ResolveTicket",
    "TicketAlreadyClosed",
    "TicketNotFound",
    "TicketState",
    "Unset",
    "UpdateTicket",
    "allowed_moves",
    "auto_close_due",
    "decide",
    "decide_merge",
    "evolve",
    "fold",
    "is_legal_move",
    "priority_for",
]

DEFAULT_POLICY = Policy()


def decide(
    state: TicketState | None, command: Command, now: datetime, policy: Policy = DEFAULT_POLICY
) -> Events:
    """The events `command` causes on the ticket in `state`, or a DomainError."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    handler = HANDLERS.get(type(command))
    if handler is None:
        raise TypeError(f"unknown command {type(command).__name__}")
    if not isinstance(command, CreateTicket):
        state = existing(state, command.ticket_id, command)
    try:
        return handler(state, command, now, policy)
    except ValidationError as error:
        raise invalid_command(error) from error


def decide_merge(
    source: TicketState | None,
    target: TicketState | None,
    command: MergeTicket,
    now: datetime,
) -> tuple[Events, Events]:
    """Events for the source and the target stream of a merge, checked across both."""
    if source is None:
        raise TicketNotFound(command.ticket_id)
    if target is None:
        raise TicketNotFound(command.target_ticket_id)
    if target.id != command.target_ticket_id:
        raise InvalidCommand("target_ticket_id", "target state is another ticket")
    return decide(source, command, now), decide(target, command, now)
