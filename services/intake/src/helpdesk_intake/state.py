"""The ticket's state and how each event changes it (`evolve`, `fold`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import singledispatch
from uuid import UUID

from helpdesk_events.envelope import Event
from helpdesk_events.tickets import (
    Actor,
    Channel,
    ChangeImplemented,
    CloseReason,
    CommentAdded,
    CustomFieldValue,
    Impact,
    Priority,
    PriorityChanged,
    Requester,
    Status,
    StatusChanged,
    TicketAssigned,
    TicketCategorized,
    TicketClosed,
    TicketCreated,
    TicketEscalated,
    TicketEvent,
    TicketMerged,
    TicketReopened,
    TicketResolved,
    TicketTransferred,
    TicketType,
    TicketUpdated,
    Tier,
    Urgency,
    WorkKind,
    WorkLogged,
)

from helpdesk_intake.rules import STAFF_ROLES


class InvalidStream(ValueError):
    """The events do not form a valid ticket history (a bug or a corrupted store)."""


@dataclass(frozen=True, kw_only=True)
class TicketState:
    """Everything known about one ticket after its events so far (treat as immutable)."""

    id: UUID
    number: str
    version: int
    status: Status
    subject: str
    description: str
    requester: Requester
    channel: Channel
    type: TicketType
    category: str | None
    priority: Priority
    impact: Impact | None
    urgency: Urgency | None
    affected_service: str | None
    language: str | None
    tags: tuple[str, ...]
    custom_fields: Mapping[str, CustomFieldValue]
    created_by: Actor
    created_at: datetime
    updated_at: datetime
    status_changed_at: datetime
    tier: Tier | None = None
    team: str | None = None
    agent: str | None = None
    first_assigned_at: datetime | None = None
    first_response_at: datetime | None = None
    #: Time, code and author of the latest resolution (kept after a reopen).
    resolved_at: datetime | None = None
    resolution_code: str | None = None
    resolved_by: Actor | None = None
    resolution_count: int = 0
    closed_at: datetime | None = None
    close_reason: CloseReason | None = None
    reopen_count: int = 0
    escalation_count: int = 0
    transfer_count: int = 0
    comment_count: int = 0
    public_agent_reply_count: int = 0
    #: Public staff replies plus logged talk time (KPIS.md: "contact").
    contact_count: int = 0
    work_seconds: Mapping[WorkKind, int] = field(default_factory=lambda: dict.fromkeys(WorkKind, 0))
    #: Outcome of the latest implementation of a change ticket (None: not recorded).
    change_success: bool | None = None
    change_attempts: int = 0
    follow_up_of: UUID | None = None
    merged_into: UUID | None = None
    merged_from: tuple[UUID, ...] = ()

    @property
    def handle_seconds(self) -> int:
        """All logged work (talk + research + after-work)."""
        return sum(self.work_seconds.values())


def evolve(state: TicketState | None, event: Event) -> TicketState:
    """Apply one ticket event; `version` counts the events applied."""
    if not isinstance(event, TicketEvent):
        raise TypeError(f"not a ticket event: {type(event).__name__}")
    if state is None:
        if not isinstance(event, TicketCreated):
            raise InvalidStream(f"{type(event).__name__} before TicketCreated")
    elif event.ticket_id != state.id:
        raise InvalidStream(f"event for ticket {event.ticket_id} applied to {state.id}")
    elif isinstance(event, TicketCreated):
        raise InvalidStream(f"ticket {state.id} created twice")
    new = _apply(event, state)
    return replace(
        new, version=(state.version if state else 0) + 1, updated_at=event.occurred_at
    )


def fold(events: Iterable[Event]) -> TicketState | None:
    """The state after `events` in stream order (None for an empty stream)."""
    state: TicketState | None = None
    for event in events:
        state = evolve(state, event)
    return state


@singledispatch
def _apply(event: TicketEvent, state: TicketState | None) -> TicketState:
    raise TypeError(f"no evolve rule for {type(event).__name__}")


@_apply.register
def _created(event: TicketCreated, state: None) -> TicketState:
    return TicketState(
        id=event.ticket_id,
        number=event.number,
        version=0,
        status=Status.NEW,
        subject=event.subject,
        description=event.description,
        requester=event.requester,
        channel=event.channel,
        type=event.type,
        category=event.category,
        priority=event.priority,
        impact=event.impact,
        urgency=event.urgency,
        affected_service=event.affected_service,
        language=event.language,
        tags=tuple(event.tags),
        custom_fields=dict(event.custom_fields),
        created_by=event.by,
        created_at=event.occurred_at,
        updated_at=event.occurred_at,
        status_changed_at=event.occurred_at,
        follow_up_of=event.follow_up_of,
    )


@_apply.register
def _updated(event: TicketUpdated, state: TicketState) -> TicketState:
    changes = {}
    for change in event.changes:
        after = change.after
        if change.field == "tags":
            after = tuple(after)
        elif change.field == "custom_fields":
            after = dict(after)
        changes[change.field] = after
    return replace(state, **changes)


@_apply.register
def _priority_changed(event: PriorityChanged, state: TicketState) -> TicketState:
    return replace(
        state, priority=event.to_priority, impact=event.impact, urgency=event.urgency
    )


@_apply.register
def _categorized(event: TicketCategorized, state: TicketState) -> TicketState:
    return replace(state, category=event.to_category)


@_apply.register
def _assigned(event: TicketAssigned, state: TicketState) -> TicketState:
    return replace(
        state,
        tier=event.tier,
        team=event.team,
        agent=event.agent,
        first_assigned_at=state.first_assigned_at or event.occurred_at,
    )


@_apply.register
def _escalated(event: TicketEscalated, state: TicketState) -> TicketState:
    return replace(
        state,
        tier=event.to_tier,
        team=event.to_team,
        agent=event.to_agent,
        escalation_count=state.escalation_count + 1,
    )


@_apply.register
def _transferred(event: TicketTransferred, state: TicketState) -> TicketState:
    return replace(
        state,
        tier=event.to_tier,
        team=event.to_team,
        agent=event.to_agent,
        transfer_count=state.transfer_count + 1,
    )


@_apply.register
def _commented(event: CommentAdded, state: TicketState) -> TicketState:
    if not (event.public and event.author.role in STAFF_ROLES):
        return replace(state, comment_count=state.comment_count + 1)
    return replace(
        state,
        comment_count=state.comment_count + 1,
        public_agent_reply_count=state.public_agent_reply_count + 1,
        contact_count=state.contact_count + 1,
        first_response_at=state.first_response_at or event.occurred_at,
    )


@_apply.register
def _status_changed(event: StatusChanged, state: TicketState) -> TicketState:
    if event.from_status is not state.status:
        raise InvalidStream(
            f"status moves from {event.from_status} but ticket {state.id} is {state.status}"
        )
    return replace(state, status=event.to_status, status_changed_at=event.occurred_at)


@_apply.register
def _work_logged(event: WorkLogged, state: TicketState) -> TicketState:
    work = dict(state.work_seconds)
    work[event.kind] = work.get(event.kind, 0) + event.seconds
    contacts = state.contact_count + (1 if event.kind is WorkKind.TALK else 0)
    return replace(state, work_seconds=work, contact_count=contacts)


@_apply.register
def _resolved(event: TicketResolved, state: TicketState) -> TicketState:
    return replace(
        state,
        resolved_at=event.occurred_at,
        resolution_code=event.resolution_code,
        resolved_by=event.by,
        resolution_count=state.resolution_count + 1,
    )


@_apply.register
def _reopened(event: TicketReopened, state: TicketState) -> TicketState:
    return replace(state, reopen_count=state.reopen_count + 1)


@_apply.register
def _closed(event: TicketClosed, state: TicketState) -> TicketState:
    return replace(state, closed_at=event.occurred_at, close_reason=event.reason)


@_apply.register
def _merged(event: TicketMerged, state: TicketState) -> TicketState:
    if event.ticket_id == event.source_ticket_id:
        return replace(state, merged_into=event.target_ticket_id)
    if event.ticket_id == event.target_ticket_id:
        return replace(state, merged_from=(*state.merged_from, event.source_ticket_id))
    raise InvalidStream(f"merge event on ticket {event.ticket_id} names neither side")


@_apply.register
def _change_implemented(event: ChangeImplemented, state: TicketState) -> TicketState:
    return replace(
        state, change_success=event.success, change_attempts=state.change_attempts + 1
    )
