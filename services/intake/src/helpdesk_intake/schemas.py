"""HTTP request and response bodies (separate from events and tables).

Size limits come from the event contract (`helpdesk_events.tickets`): subject 200 chars,
description and comment bodies 20 000, up to 20 tags of 50, up to 50 custom fields
(keys 64, text values 1 000), reasons 2 000, identifiers 100; request bodies 1 MiB.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from helpdesk_events.tickets import (
    MAX_CUSTOM_FIELDS,
    MAX_WORK_SECONDS,
    Actor,
    Body,
    Category,
    Channel,
    CloseReason,
    CustomFieldKey,
    CustomFields,
    CustomFieldValue,
    Description,
    Identifier,
    Impact,
    Language,
    Priority,
    Reason,
    Requester,
    ResolutionCode,
    ServiceName,
    Status,
    Subject,
    Tags,
    TicketType,
    Tier,
    Urgency,
    WorkKind,
)

from . import examples


def _body(example: dict[str, Any]) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": [example]})


class TicketCreate(BaseModel):
    """A new ticket from any channel (priority from impact x urgency unless given)."""

    model_config = _body(examples.TICKET_CREATE)

    subject: Subject = Field(description="One-line summary, 1..200 chars.")
    description: Description = Field("", description="Details, up to 20 000 chars.")
    requester: Requester
    channel: Channel
    type: TicketType = TicketType.INCIDENT
    category: Category | None = Field(None, description="e.g. network/vpn, up to 100 chars.")
    priority: Priority | None = Field(None, description="Explicit priority; else impact x urgency.")
    impact: Impact | None = None
    urgency: Urgency | None = None
    affected_service: ServiceName | None = None
    language: Language | None = Field(None, description="BCP 47 tag, e.g. en or de-CH.")
    tags: Tags = Field((), description="Up to 20 tags of up to 50 chars (lower-cased).")
    custom_fields: CustomFields = Field(
        default_factory=dict, description="Up to 50 scalar fields; text values up to 1 000 chars."
    )
    follow_up_of: UUID | None = Field(
        None, description="A closed (or no longer reopenable) ticket this one follows up."
    )


class TicketPatch(BaseModel):
    """Fields to change; a field left out stays as it is. Only the optional ones may be null."""

    model_config = _body(examples.TICKET_PATCH)

    # Non-null types with a None default: leaving a field out is fine, sending null is a 422.
    subject: Subject = Field(None, description="1..200 chars.")
    description: Description = Field(None, description="Up to 20 000 chars.")
    requester: Requester = Field(None)
    channel: Channel = Field(None)
    type: TicketType = Field(None)
    affected_service: ServiceName | None = Field(None, description="null clears it.")
    language: Language | None = Field(None, description="null clears it.")
    tags: Tags = Field(None, description="Replaces the whole tag set.")
    custom_fields: Annotated[
        dict[CustomFieldKey, CustomFieldValue | None], Field(max_length=MAX_CUSTOM_FIELDS)
    ] = Field(None, description="Merged into the current fields; a null value deletes a key.")
    priority: Priority = Field(None, description="Explicit priority.")
    impact: Impact = Field(None, description="Reassessed impact (recomputes the priority).")
    urgency: Urgency = Field(None, description="Reassessed urgency (recomputes the priority).")
    priority_reason: Reason | None = Field(None, description="Why the priority changed.")
    category: Category = Field(None, description="Up to 100 chars.")


class CommentCreate(BaseModel):
    """A public reply (visible to the requester) or an internal note."""

    model_config = _body(examples.COMMENT)

    body: Body = Field(description="Text, 1..20 000 chars.")
    public: bool = Field(True, description="False: an internal note (staff only).")


class StatusChange(BaseModel):
    """Move between the working statuses new, open, pending and on_hold."""

    model_config = _body(examples.STATUS_CHANGE)

    to_status: Status
    reason: Reason | None = None


class Assignment(BaseModel):
    """Assign to a team (and agent), or transfer; a tier raise is an escalation."""

    model_config = _body(examples.ASSIGNMENT)

    team: Identifier
    agent: Identifier | None = None
    tier: Tier | None = Field(None, description="1..3; null keeps the current tier.")
    reason: Reason


class Escalation(BaseModel):
    """Raise the tier, optionally handing the ticket to another team or agent."""

    model_config = _body(examples.ESCALATION)

    to_tier: Tier = Field(description="Above the current tier (1..3).")
    reason: Reason
    to_team: Identifier | None = None
    to_agent: Identifier | None = None


class WorkLogCreate(BaseModel):
    """Time spent on the ticket."""

    model_config = _body(examples.WORKLOG)

    seconds: int = Field(gt=0, le=MAX_WORK_SECONDS, description="1..86 400 seconds.")
    kind: WorkKind
    agent: Identifier | None = Field(None, description="Who worked; default: the acting user.")
    note: Reason | None = None


class Resolution(BaseModel):
    """Resolve with a resolution code."""

    model_config = _body(examples.RESOLUTION)

    resolution_code: ResolutionCode = Field(description="e.g. fixed, workaround, no_fault_found.")
    summary: Description | None = None


class Reopen(BaseModel):
    """Reopen a resolved ticket within the reopen window."""

    model_config = _body(examples.REOPEN)

    reason: Reason


class MergeRequest(BaseModel):
    """Merge this ticket (the duplicate) into the target ticket."""

    model_config = _body(examples.MERGE)

    target_ticket_id: UUID


class ChangeOutcome(BaseModel):
    """Whether a change ticket's implementation succeeded."""

    model_config = _body(examples.CHANGE_OUTCOME)

    success: bool
    notes: Description | None = None


class TicketView(BaseModel):
    """A ticket's current state (the fold of its events)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [examples.TICKET]})

    id: UUID
    number: str = Field(description="Human number, e.g. HD-1042.")
    version: int = Field(description="Events in the stream; the ETag.")
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
    tags: list[str]
    custom_fields: dict[str, CustomFieldValue]
    created_by: Actor
    created_at: datetime
    updated_at: datetime
    status_changed_at: datetime
    tier: Tier | None
    team: str | None
    agent: str | None
    first_assigned_at: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None = Field(description="Latest resolution (kept after a reopen).")
    resolution_code: str | None
    resolved_by: Actor | None
    resolution_count: int
    closed_at: datetime | None
    close_reason: CloseReason | None
    reopen_count: int
    escalation_count: int
    transfer_count: int
    comment_count: int
    public_agent_reply_count: int
    contact_count: int
    work_seconds: dict[WorkKind, int]
    change_success: bool | None
    change_attempts: int
    follow_up_of: UUID | None
    merged_into: UUID | None
    merged_from: list[UUID]


class TicketPage(BaseModel):
    """One page of tickets; pass `next_cursor` as `cursor` for the next one."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.TICKET_PAGE]})

    items: list[TicketView]
    next_cursor: str | None = Field(description="Opaque; null on the last page.")


class EventView(BaseModel):
    """One entry of a ticket's history: the CloudEvents envelope as published on Kafka."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [examples.EVENT]})

    id: UUID
    source: str
    type: str
    subject: str
    time: datetime
    specversion: str
    sequence: int | None = None
    data: dict[str, Any]


class CommandResult(BaseModel):
    """The ticket after the command and the events it caused (none when it changed nothing)."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.COMMAND_RESULT]})

    ticket: TicketView
    events: list[EventView]


class MergeResult(BaseModel):
    """Both tickets after a merge, and the events appended to each stream."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.MERGE_RESULT]})

    ticket: TicketView = Field(description="The source, now closed (reason merged).")
    target: TicketView
    events: list[EventView]


class ReplayResult(BaseModel):
    """Events queued in the outbox for re-publishing (the relay sends them in this order)."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.REPLAY_RESULT]})

    queued: int
    first_position: int | None
    last_position: int | None


class FieldError(BaseModel):
    """One invalid field."""

    field: str = Field(description="Dotted path, e.g. requester.email or header.If-Match.")
    message: str
    code: str


class ProblemDetails(BaseModel):
    """RFC 9457 problem details; extension members vary by problem type."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = None
