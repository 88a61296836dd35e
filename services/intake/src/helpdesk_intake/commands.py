"""Commands intake accepts for a ticket: private to intake, never published.

Ids, ticket numbers and times come in from the caller; the domain makes none up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Union
from uuid import UUID

from helpdesk_events.tickets import (
    Actor,
    Channel,
    CloseReason,
    CustomFieldValue,
    EscalationTrigger,
    Impact,
    Priority,
    Requester,
    Status,
    TicketType,
    Tier,
    Urgency,
    WorkKind,
)


class Unset:
    """Marks an UpdateTicket field the caller did not send (None may be a real value)."""

    _instance: Unset | None = None

    def __new__(cls) -> Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Final = Unset()


@dataclass(frozen=True, kw_only=True)
class CreateTicket:
    """Log a new ticket; priority comes from impact x urgency unless given."""

    ticket_id: UUID
    number: str
    subject: str
    requester: Requester
    channel: Channel
    type: TicketType
    by: Actor
    description: str = ""
    category: str | None = None
    priority: Priority | None = None
    impact: Impact | None = None
    urgency: Urgency | None = None
    affected_service: str | None = None
    language: str | None = None
    tags: Sequence[str] = ()
    custom_fields: Mapping[str, CustomFieldValue] = field(default_factory=dict)
    follow_up_of: UUID | None = None


@dataclass(frozen=True, kw_only=True)
class UpdateTicket:
    """Change descriptive fields; UNSET leaves a field alone.

    `custom_fields` is merged into the current ones (a None value removes the key);
    `tags` replaces the whole set.
    """

    ticket_id: UUID
    by: Actor
    subject: str | Unset = UNSET
    description: str | Unset = UNSET
    requester: Requester | Unset = UNSET
    channel: Channel | Unset = UNSET
    type: TicketType | Unset = UNSET
    affected_service: str | None | Unset = UNSET
    language: str | None | Unset = UNSET
    tags: Sequence[str] | Unset = UNSET
    custom_fields: Mapping[str, CustomFieldValue | None] | Unset = UNSET


@dataclass(frozen=True, kw_only=True)
class ChangePriority:
    """Set the priority, or reassess impact / urgency (None keeps the current value)."""

    ticket_id: UUID
    by: Actor
    priority: Priority | None = None
    impact: Impact | None = None
    urgency: Urgency | None = None
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class Categorize:
    """Set or change the category."""

    ticket_id: UUID
    category: str
    by: Actor


@dataclass(frozen=True, kw_only=True)
class AddComment:
    """Add a public reply or an internal note."""

    ticket_id: UUID
    comment_id: UUID
    author: Actor
    body: str
    public: bool = True


@dataclass(frozen=True, kw_only=True)
class ChangeStatus:
    """Move between the working statuses (new, open, pending, on_hold)."""

    ticket_id: UUID
    to_status: Status
    by: Actor
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class AssignTicket:
    """Assign to a team (and agent), or transfer; `tier` None keeps the current tier."""

    ticket_id: UUID
    team: str
    by: Actor
    reason: str
    agent: str | None = None
    tier: Tier | None = None
    routing_decision_id: UUID | None = None


@dataclass(frozen=True, kw_only=True)
class EscalateTicket:
    """Raise the tier, optionally handing the ticket to another team / agent."""

    ticket_id: UUID
    to_tier: Tier
    reason: str
    by: Actor
    trigger: EscalationTrigger = EscalationTrigger.MANUAL
    to_team: str | None = None
    to_agent: str | None = None
    routing_decision_id: UUID | None = None


@dataclass(frozen=True, kw_only=True)
class LogWork:
    """Record time an agent spent on the ticket."""

    ticket_id: UUID
    agent: str
    seconds: int
    kind: WorkKind
    by: Actor
    note: str | None = None


@dataclass(frozen=True, kw_only=True)
class ResolveTicket:
    """Resolve with a resolution code."""

    ticket_id: UUID
    resolution_code: str
    by: Actor
    summary: str | None = None


@dataclass(frozen=True, kw_only=True)
class ReopenTicket:
    """Reopen a resolved ticket (within the policy's reopen window)."""

    ticket_id: UUID
    reason: str
    by: Actor


@dataclass(frozen=True, kw_only=True)
class CloseTicket:
    """Close a resolved ticket; reason auto_close is for the system actor once it is due."""

    ticket_id: UUID
    by: Actor
    reason: CloseReason = CloseReason.MANUAL


@dataclass(frozen=True, kw_only=True)
class MergeTicket:
    """Merge `ticket_id` (the duplicate) into `target_ticket_id`.

    Decided against the source it closes the source; decided against the target it
    records the link there. `decide_merge` does both with the checks across the two.
    """

    ticket_id: UUID
    target_ticket_id: UUID
    by: Actor


@dataclass(frozen=True, kw_only=True)
class RecordChangeOutcome:
    """Record whether a change ticket's implementation succeeded."""

    ticket_id: UUID
    success: bool
    by: Actor
    notes: str | None = None


Command = Union[
    CreateTicket,
    UpdateTicket,
    ChangePriority,
    Categorize,
    AddComment,
    ChangeStatus,
    AssignTicket,
    EscalateTicket,
    LogWork,
    ResolveTicket,
    ReopenTicket,
    CloseTicket,
    MergeTicket,
    RecordChangeOutcome,
]
