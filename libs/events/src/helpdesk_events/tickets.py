"""Ticket events (topic `helpdesk.tickets`) and the value types they carry.

Intake is the only producer. Every event is keyed by `ticket_id` and carries
`occurred_at`, the moment the fact happened (the envelope's `time` is set from it), so a
ticket's state can be rebuilt from the payloads alone. Status moves are always told by
`StatusChanged`; the semantic events (`TicketResolved`, `TicketReopened`, `TicketClosed`,
`TicketMerged`) precede it in the same append and carry the why.
"""

from __future__ import annotations

from datetime import datetime, timezone
from enum import IntEnum, StrEnum
from typing import Annotated, ClassVar, Literal, Union
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from helpdesk_events import topics
from helpdesk_events.envelope import Event

# Limits, documented once (the HTTP schemas reuse them).
MAX_SUBJECT = 200
MAX_DESCRIPTION = 20_000
MAX_BODY = 20_000
MAX_TAG = 50
MAX_TAGS = 20
MAX_CUSTOM_FIELDS = 50
MAX_CUSTOM_FIELD_KEY = 64
MAX_CUSTOM_FIELD_VALUE = 1_000
MAX_NAME = 200
MAX_ID = 100
MAX_REASON = 2_000
MAX_WORK_SECONDS = 24 * 3600  # one entry per sitting; a day is already generous


# --- value types --------------------------------------------------------------------------


class Channel(StrEnum):
    """Where the ticket came in."""

    EMAIL = "email"
    PHONE = "phone"
    CHAT = "chat"
    PORTAL = "portal"
    API = "api"
    WALK_IN = "walk_in"
    SOCIAL = "social"


class TicketType(StrEnum):
    """ITIL record type."""

    INCIDENT = "incident"
    SERVICE_REQUEST = "service_request"
    QUESTION = "question"
    PROBLEM = "problem"
    CHANGE = "change"


class Status(StrEnum):
    """Lifecycle status; `pending` waits on the requester, `on_hold` on a third party."""

    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    ON_HOLD = "on_hold"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Priority(StrEnum):
    """P1 (most urgent) .. P4; sorts correctly as text."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class Impact(StrEnum):
    """ITIL impact: how much of the business is affected."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Urgency(StrEnum):
    """ITIL urgency: how fast the business needs it."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Tier(IntEnum):
    """Support tier 1..3 (serialised as the integer)."""

    T1 = 1
    T2 = 2
    T3 = 3


class ActorRole(StrEnum):
    """Who acted; `system` is intake itself (auto-close), `integrator` an outside system."""

    REQUESTER = "requester"
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    INTEGRATOR = "integrator"
    SYSTEM = "system"


class WorkKind(StrEnum):
    """Kind of logged work; their sum is the handle time."""

    TALK = "talk"
    RESEARCH = "research"
    AFTER_WORK = "after_work"


class EscalationTrigger(StrEnum):
    """What caused an escalation."""

    MANUAL = "manual"
    SLA_BREACH = "sla_breach"
    RULE = "rule"


class CloseReason(StrEnum):
    """Why a ticket closed."""

    AUTO_CLOSE = "auto_close"
    MERGED = "merged"
    MANUAL = "manual"


Identifier = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_ID)
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME)]
Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_REASON)
]
Subject = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_SUBJECT)
]
Description = Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION)]
Body = Annotated[str, StringConstraints(min_length=1, max_length=MAX_BODY)]
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    ),
]
TicketNumber = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9]{0,9}-[0-9]{1,12}$")]
Language = Annotated[
    str, StringConstraints(max_length=35, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
]
Category = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
ServiceName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TAG, pattern=r"^\S(.*\S)?$")]
Tags = Annotated[tuple[Tag, ...], Field(max_length=MAX_TAGS)]
CustomFieldKey = Annotated[
    str, StringConstraints(pattern=rf"^[A-Za-z_][A-Za-z0-9_.-]{{0,{MAX_CUSTOM_FIELD_KEY - 1}}}$")
]
CustomFieldValue = Union[
    bool, int, float, Annotated[str, StringConstraints(max_length=MAX_CUSTOM_FIELD_VALUE)]
]
CustomFields = Annotated[
    dict[CustomFieldKey, CustomFieldValue], Field(max_length=MAX_CUSTOM_FIELDS)
]
ResolutionCode = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
]


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Requester(_Value):
    """The person the ticket is for."""

    id: Identifier = Field(description="Requester id in the identity provider or CRM.")
    email: Email | None = Field(None, description="Contact address (surveys go here).")
    name: Name | None = Field(None, description="Display name.")
    org: Name | None = Field(None, description="Organisation or department.")


class Actor(_Value):
    """Who did something: a user id with the role it acted in."""

    id: Identifier = Field(description="User or system id.")
    role: ActorRole = Field(description="Role the actor acted in.")


#: Intake itself, for automatic actions (auto-close).
SYSTEM_ACTOR = Actor(id="system", role=ActorRole.SYSTEM)


# --- field changes carried by TicketUpdated -----------------------------------------------


class SubjectChange(_Value):
    """The subject changed."""

    field: Literal["subject"] = "subject"
    before: Subject
    after: Subject


class DescriptionChange(_Value):
    """The description changed."""

    field: Literal["description"] = "description"
    before: Description
    after: Description


class RequesterChange(_Value):
    """The requester changed."""

    field: Literal["requester"] = "requester"
    before: Requester
    after: Requester


class ChannelChange(_Value):
    """The intake channel was corrected."""

    field: Literal["channel"] = "channel"
    before: Channel
    after: Channel


class TypeChange(_Value):
    """The ticket type changed."""

    field: Literal["type"] = "type"
    before: TicketType
    after: TicketType


class AffectedServiceChange(_Value):
    """The affected service changed (None: none)."""

    field: Literal["affected_service"] = "affected_service"
    before: ServiceName | None
    after: ServiceName | None


class LanguageChange(_Value):
    """The conversation language changed (None: unknown)."""

    field: Literal["language"] = "language"
    before: Language | None
    after: Language | None


class TagsChange(_Value):
    """The tag set changed; `after` is the whole new set."""

    field: Literal["tags"] = "tags"
    before: Tags
    after: Tags


class CustomFieldsChange(_Value):
    """Custom fields changed; `after` is the whole new mapping."""

    field: Literal["custom_fields"] = "custom_fields"
    before: CustomFields
    after: CustomFields


FieldChange = Annotated[
    Union[
        SubjectChange,
        DescriptionChange,
        RequesterChange,
        ChannelChange,
        TypeChange,
        AffectedServiceChange,
        LanguageChange,
        TagsChange,
        CustomFieldsChange,
    ],
    Field(discriminator="field"),
]


# --- events -------------------------------------------------------------------------------


class TicketEvent(Event):
    """Fields every ticket event carries (abstract: no TYPE)."""

    ticket_id: UUID = Field(description="The ticket (stream id and Kafka key).")
    occurred_at: AwareDatetime = Field(description="When it happened (UTC, RFC 3339).")

    @field_validator("occurred_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.astimezone(timezone.utc)


class TicketCreated(TicketEvent):
    """A ticket was logged."""

    TYPE: ClassVar[str] = "helpdesk.ticket.created.v1"
    TOPIC: ClassVar[str] = topics.TICKETS

    number: TicketNumber = Field(description="Human ticket number, e.g. HD-1042.")
    subject: Subject = Field(description=f"One-line summary (<= {MAX_SUBJECT} chars).")
    description: Description = Field("", description=f"Details (<= {MAX_DESCRIPTION} chars).")
    requester: Requester = Field(description="Who the ticket is for.")
    channel: Channel = Field(description="Where it came in.")
    type: TicketType = Field(description="ITIL record type.")
    category: Category | None = Field(None, description="Category, e.g. network/vpn.")
    priority: Priority = Field(description="Effective priority (explicit or from the matrix).")
    impact: Impact | None = Field(None, description="ITIL impact, if assessed.")
    urgency: Urgency | None = Field(None, description="ITIL urgency, if assessed.")
    affected_service: ServiceName | None = Field(None, description="Affected IT service.")
    language: Language | None = Field(None, description="BCP 47 language tag, e.g. en, de-CH.")
    tags: Tags = Field((), description=f"Up to {MAX_TAGS} tags of <= {MAX_TAG} chars.")
    custom_fields: CustomFields = Field(
        default_factory=dict, description=f"Up to {MAX_CUSTOM_FIELDS} scalar custom fields."
    )
    by: Actor = Field(description="Who logged it (the requester, or an agent on the phone).")
    follow_up_of: UUID | None = Field(
        None, description="A closed ticket this one follows up (it could not be reopened)."
    )


class TicketUpdated(TicketEvent):
    """Descriptive fields changed (each change with its before and after)."""

    TYPE: ClassVar[str] = "helpdesk.ticket.updated.v1"
    TOPIC: ClassVar[str] = topics.TICKETS

    changes: tuple[FieldChange, ...] = Field(
        min_length=1, max_length=9, description="One entry per changed field."
    )
    by: Actor = Field(description="Who changed them.")


class PriorityChanged(TicketEvent):
    """The priority (and possibly impact and urgency) changed."""

    TYPE: ClassVar[str] = "helpdesk.ticket.priority_changed.v1"
    TOPIC: ClassVar[str] = topics.TICKETS

    from_priority: Priority = Field(description="Priority before.")
    to_priority: Priority = Field(description="Priority after.")
    impact: Impact | None = Field(None, description="Impact after the change.")
    urgency: Urgency | None = Field(None, description="Urgency after the change.")
    reason: Reason | None = Field(None, description="Why.")
    by: Actor = Field(description="Who changed it.")


class TicketCategorized(TicketEvent):
    """The category was set or changed."""

    TYPE: ClassVar[str] = "helpdesk.ticket.categorized.v1"
    TOPIC: ClassVar[str] = topics.TICKETS

    from_category: Category | None = Field(None, description="Category before (None: none).")
    to_category: Category = Field(description="Category after.")
    by: Actor = Field(description="Who categorized it.")


class TicketAssigned(TicketEvent):
    """First assignment to a team (and maybe agent), or an agent picked from the team queue."""

    TYPE: ClassVar[str] = "helpdesk.ticket.assigned.v1"
    TOPIC: ClassVar[str] = topics.TICKETS

    tier: Tier = Field(description="Support tier.")
    team: Identifier = Field(description="Team id.")
    agent: Identifier | None = Field(None, description="Agent id; None: the team queue.")
    by: Actor = Field(description="Who assigned it (routing acts as integrator or system).")
    reason: Reason = Field(description="Why this team / agent.")
    routing_decision_id: UUID | None = Field(
        None, description="The routing decision event applied, if any."
    )


class TicketEscalated(TicketEvent):
    """The tier was raised (optionally moving team / agent with it)."""

    TYPE: ClassVar[str] = "helpdesk.ticket.escalated.v1"
    TOPIC: ClassVar[str] = topics.TICKETS

    from_tier: Tier = Field(description="Tier before.")
    to_tier: Tier = Field(description="Tier after (higher).")
    reason: Reason = Field(description="Why.")
    by: Actor = Field(description="Who escalated it.")
    trigger: EscalationTrigger = Field(description="manual, sla_breach or rule.")
    from_team: Identifier | None = Field(None, description="Team before.")
    to_team: Identifier | None = Field(None, description="Team after.")
    from_agent: Identifier | None = Field(None, description="Agent before.")
    to_agent: Identifier | None = Field(None, description="Agent after.")
    routing_decision_id: UUID | None = Field(
        None, description="The routing decision event applied, if any."
    )


class TicketTransferred(TicketEvent):
    """Moved to another team or agent after the first assignment (never a tier raise)."""

    TYPE: ClassVar[str] = "helpdesk.ticket.transferred.v1"
    TOPIC: ClassVar[str] = topics.TICKETS

    from_team: Identifier = Field(description="Team before.")
    to_team: Identifier = Field(description="Team after.")
    from_agent: Identifier | None = Field(None, description="Agent before.")
    to_agent: Identifier | None = Field(None, description="Agent after; None: the team queue.")
    from_tier: Tier = Field(description="Tier before.")
    to_tier: Tier = Field(description="Tier after (equal or lower).")
    reason: Reason = Field(description="Why.")
    by: Actor = Field(description="Who transferred it.")
    routing_decision_id: UUID | None = Field(
        None, description="The routing decision event applied, if any."
    )


class CommentAdded(TicketEvent):
    """A public reply or an internal note."""

    TYPE: ClassVar[str] = "helpdesk.ticket.commented.v1"
    TOPIC: ClassVar[str] = topics.TICKETS

    comment_id: UUID = Field(description="Comment id.")
    author: Actor = Field(description="Who wrote it.")
    public: bool = Field(description="True: visible to the requester; False: internal note.")
    body: Body = Field(description=f"Text (<= {MAX_BODY} chars).")


class StatusChanged(TicketEvent):
    """The status moved."""

    TYPE: ClassVar[str] = "helpdesk.ticket.status_changed.v1"
    TOPIC: ClassVar[str] = topics.TICKETS

    from_status: Status = Field(description="Status before.")
    to_status: Status = Field(description="Status after.")
    by: Actor = Field(description="Who (or what) moved it.")
    reason: Reason | None = Field(None, description="Why, if given.")


class WorkLogged(TicketEvent):
    """An agent logged time on the ticket."""

    TYPE: ClassVar[str] = "helpdesk.ticket.work_logged.v1"
    TOPIC: ClassVar[str] = topics.TICKETS

    agent: Identifier = Field(description="Agent who did the work.")
    seconds: int = Field(gt=0, le=MAX_WORK_SECONDS, description="Duration in seconds.")
    kind: WorkKind = Field(description="talk, research or after_work.")
    by: Actor = Field(description="Who logged it (usually the agent).")
    note: Reason | None = Field(None, description="What was done.")


class TicketResolved(TicketEvent):
    """A resolution was provided."""

    TYPE: ClassVar[str] = "helpdesk.ticket.resolved.v1"
    TOPIC: ClassVar[str] = topics.TICKETS

    resolution_code: ResolutionCode = Field(description="e.g. fixed, workaround, no_fault_found.")
    by: Actor = Field(description="Who resolved it.")
    summary: Description | None = Field(None, description="What was done.")


class TicketReopened(TicketEvent):
    """A resolved ticket was reopened within the reopen window."""

    TYPE: ClassVar[str] = "helpdesk.ticket.reopened.v1"
    TOPIC: ClassVar[str] = topics.TICKETS

    reason: Reason = Field(description="Why the resolution did not hold.")
    by: Actor = Field(description="Who reopened it.")


class TicketClosed(TicketEvent):
    """The ticket closed for good (terminal)."""

    TYPE: ClassVar[str] = "helpdesk.ticket.closed.v1"
    TOPIC: ClassVar[str] = topics.TICKETS

    by: Actor = Field(description="Who closed it (system for auto_close).")
    reason: CloseReason = Field(description="auto_close, merged or manual.")


class TicketMerged(TicketEvent):
    """Source was merged into target; appended to both streams (`ticket_id` says which)."""

    TYPE: ClassVar[str] = "helpdesk.ticket.merged.v1"
    TOPIC: ClassVar[str] = topics.TICKETS

    source_ticket_id: UUID = Field(description="The duplicate, closed by the merge.")
    target_ticket_id: UUID = Field(description="The ticket that lives on.")
    by: Actor = Field(description="Who merged them.")


class ChangeImplemented(TicketEvent):
    """A change ticket's implementation finished, successfully or not."""

    TYPE: ClassVar[str] = "helpdesk.ticket.change_implemented.v1"
    TOPIC: ClassVar[str] = topics.TICKETS

    success: bool = Field(description="True if the change succeeded.")
    by: Actor = Field(description="Who recorded the outcome.")
    notes: Description | None = Field(None, description="Details, e.g. rollback performed.")


#: Every concrete ticket event class, in the order of DESIGN.md's table.
TICKET_EVENTS: tuple[type[TicketEvent], ...] = (
    TicketCreated,
    TicketUpdated,
    PriorityChanged,
    TicketCategorized,
    TicketAssigned,
    TicketEscalated,
    TicketTransferred,
    CommentAdded,
    StatusChanged,
    WorkLogged,
    TicketResolved,
    TicketReopened,
    TicketClosed,
    TicketMerged,
    ChangeImplemented,
)
